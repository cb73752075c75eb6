"""``signal-ext keywords``: a bot's keyword directory («Ключевые слова») — load from YAML, export, show."""

from __future__ import annotations

from pathlib import Path

import click
from sqlmodel import Session, select

from algorithms.models import Algorithm
from keywords.errors import KeywordError
from keywords.file import AlgorithmExists, read_keyword_file
from keywords.matching import normalise
from keywords.store import export_yaml, load_tree, render_tree, replace_tree
from processes.errors import shortened
from processes.files import describe_os_error
from signal_ext.bots.directory import find_bot
from signal_ext.commands.common import reading, writing
from signal_ext.commands.params import FILE_PATH


@click.group("keywords")
def keywords_group() -> None:
    """Ключевые слова чат-бота: загрузка из YAML, выгрузка, дерево."""


def _algorithm_names(session: Session) -> AlgorithmExists:
    """Whether an algorithm is named so (by name or additional name; case and spaces ignored)."""
    known: set[str] = set()
    for name, alias in session.exec(select(Algorithm.name, Algorithm.alias)):
        known.add(normalise(name))
        if alias:
            known.add(normalise(alias))
    return lambda name: normalise(name) in known


@keywords_group.command("load")
@click.argument("bot_ref", metavar="BOT")
@click.argument("path", metavar="FILE", type=FILE_PATH)
def load(bot_ref: str, path: Path) -> None:
    """Заменить ключевые слова чат-бота BOT записями из YAML-файла FILE (всё или ничего)."""
    with writing() as session:
        bot = find_bot(session, bot_ref)
        assert bot.id is not None
        document = read_keyword_file(path, _algorithm_names(session))
        replace_tree(session, bot.id, document.keywords)
    total, deleted = document.count()
    marked = f", из них помечено на удаление {deleted}" if deleted else ""
    click.echo(
        f"Ключевые слова чат-бота «{bot.name}» загружены из {path}: "
        f"записей {total} (верхнего уровня {len(document.keywords)}){marked}"
    )


@keywords_group.command("export")
@click.argument("bot_ref", metavar="BOT")
@click.option("--output", "-o", type=FILE_PATH, default=None, help="Файл для записи.")
def export(bot_ref: str, output: Path | None) -> None:
    """Выгрузить ключевые слова чат-бота BOT в YAML (в stdout или в файл --output)."""
    with reading() as session:
        bot = find_bot(session, bot_ref)
        assert bot.id is not None
        text = export_yaml(session, bot.id)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except (OSError, ValueError) as error:
        raise KeywordError(f"Не удалось записать {shortened(str(output))}: {describe_os_error(error)}") from None
    click.echo(f"Ключевые слова чат-бота «{bot.name}» выгружены в {output}")


@keywords_group.command("tree")
@click.argument("bot_ref", metavar="BOT")
def tree(bot_ref: str) -> None:
    """Дерево ключевых слов чат-бота BOT: вид каждой записи, помеченные на удаление отмечены."""
    with reading() as session:
        bot = find_bot(session, bot_ref)
        assert bot.id is not None
        loaded = load_tree(session, bot.id)
    click.echo(render_tree(loaded) if loaded.roots else f"У чат-бота «{bot.name}» нет ключевых слов")

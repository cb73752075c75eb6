"""``signal-ext algorithm``: the algorithms directory («Алгоритмы») and running an algorithm from the console."""

from __future__ import annotations

import json
from pathlib import Path

import click
from sqlmodel import Session, col, select

from algorithms.directory import add_algorithm, find_algorithm, list_algorithms, name_key, update_algorithm
from algorithms.errors import AlgorithmError
from algorithms.isolation import Mode, describe
from algorithms.models import Algorithm, AlgorithmCreate, AlgorithmPublic
from algorithms.values import result_lines
from keywords.models import Keyword
from processes.errors import shortened
from processes.files import read_text_file
from processes.json_text import load_json
from processes.persons import find_person
from signal_ext.bots.models import Bot
from signal_ext.commands.common import current_app, emit, json_option, local_time, reading, writing
from signal_ext.commands.params import INPUT_FILE

code_option = click.option("--code", default=None, help="Код алгоритма (Python).")
file_option = click.option("--file", "code_file", type=INPUT_FILE, help="Файл с кодом.")


@click.group("algorithm")
def algorithm_group() -> None:
    """Алгоритмы: код проектировщика, выполняемый изолированно."""


def _code(code: str | None, code_file: Path | None, required: bool) -> str | None:
    if code is not None and code_file is not None:
        raise AlgorithmError("Укажите либо --code, либо --file")
    if code_file is not None:
        try:
            return read_text_file(code_file)
        except ValueError as error:
            raise AlgorithmError(f"Файл {shortened(str(code_file))} не прочитан: {error}") from None
    if code is None and required:
        raise AlgorithmError("Укажите код: --code ТЕКСТ или --file ФАЙЛ")
    return code


@algorithm_group.command("add")
@click.argument("name")
@code_option
@file_option
@click.option("--alias", default=None, help="Дополнительное наименование (например «А1»).")
@click.option("--telegram", is_flag=True, help="Алгоритм Telegram: вызывается по имени из чат-бота с кодом.")
@json_option
def add(name: str, code: str | None, code_file: Path | None, alias: str | None, telegram: bool, as_json: bool) -> None:
    """Добавить алгоритм NAME; код проверяется сразу."""
    data = AlgorithmCreate(name=name, alias=alias, telegram=telegram, code=_code(code, code_file, True) or "")
    with writing() as session:
        algorithm = AlgorithmPublic.model_validate(add_algorithm(session, data))
    emit(algorithm, as_json, lambda: f"Добавлен алгоритм «{algorithm.name}» (id {algorithm.id})")


@algorithm_group.command("update")
@click.argument("ref", metavar="NAME")
@code_option
@file_option
@click.option("--alias", default=None, help="Дополнительное наименование (пустое — убрать).")
@click.option("--telegram/--no-telegram", default=None, help="Алгоритм Telegram.")
def update(ref: str, code: str | None, code_file: Path | None, alias: str | None, telegram: bool | None) -> None:
    """Изменить алгоритм (по id, имени или доп. наименованию); не указанные поля не меняются."""
    new_code = _code(code, code_file, False)
    with writing() as session:
        algorithm = find_algorithm(session, ref)
        update_algorithm(session, algorithm, code=new_code, alias=alias, telegram=telegram)
        name = algorithm.name
    click.echo(f"Алгоритм «{name}» изменён")


@algorithm_group.command("list")
@json_option
def list_(as_json: bool) -> None:
    """Список алгоритмов."""
    with reading() as session:
        algorithms = [AlgorithmPublic.model_validate(a) for a in list_algorithms(session)]
    emit(algorithms, as_json, lambda: "\n".join(_line(a) for a in algorithms) or "Алгоритмов нет")


@algorithm_group.command("show")
@click.argument("ref", metavar="NAME")
@json_option
def show(ref: str, as_json: bool) -> None:
    """Карточка алгоритма с кодом."""
    with reading() as session:
        algorithm = AlgorithmPublic.model_validate(find_algorithm(session, ref))
    emit(algorithm, as_json, lambda: _card(algorithm))


@algorithm_group.command("delete")
@click.argument("ref", metavar="NAME")
def delete(ref: str) -> None:
    """Удалить алгоритм (нельзя, пока его называют ключевые слова или авторизация чат-бота)."""
    with writing() as session:
        algorithm = find_algorithm(session, ref)
        users = algorithm_users(session, algorithm)
        if users:
            raise AlgorithmError(f"Алгоритм «{algorithm.name}» нельзя удалить: его вызывают {'; '.join(users)}")
        session.delete(algorithm)
        session.commit()
    click.echo(f"Алгоритм «{algorithm.name}» удалён")


def algorithm_users(session: Session, algorithm: Algorithm) -> list[str]:
    """Who calls ``algorithm`` by its name or additional name: keyword records (not deleted) and bots' authorization."""
    keys = {name_key(algorithm.name)} | ({name_key(algorithm.alias)} if algorithm.alias else set())
    bots = {bot.id: bot.name for bot in session.exec(select(Bot))}
    found = [
        f"ключевое слово «{keyword.words}» бота {bots.get(keyword.bot_id, keyword.bot_id)}"
        for keyword in session.exec(
            select(Keyword).where(col(Keyword.algorithm).is_not(None), col(Keyword.deleted).is_(False))
        )
        if name_key(keyword.algorithm or "") in keys
    ]
    found += [
        f"авторизация бота {bot.name}"
        for bot in session.exec(select(Bot))
        if name_key(bot.auth_algorithm or "") in keys
    ]
    return found


@algorithm_group.command("run")
@click.argument("ref", metavar="NAME")
@click.option("--performer", default=None, help="Исполнитель (_Исполнитель): id или часть имени.")
@click.option("--data", "data_text", default=None, help="_ДанныеДляОбработки в JSON, например '[\"Вариант 1\"]'.")
@json_option
def run(ref: str, performer: str | None, data_text: str | None, as_json: bool) -> None:
    """Выполнить алгоритм и напечатать _Результат (список — по элементу в строке)."""
    try:
        data = load_json(data_text) if data_text is not None else None
    except ValueError as error:
        raise AlgorithmError(f"--data: {error}") from None
    performer_id = None
    if performer is not None:
        with reading() as session:
            performer_id = find_person(session, performer).id
    runner = current_app().algorithms.runner
    value = current_app().algorithms.run(ref, performer_id, data)
    if runner.isolation.mode is Mode.UNISOLATED:
        click.echo(f"Внимание: алгоритмы {describe(runner.isolation)}", err=True)
    if as_json:
        click.echo(json.dumps(value, ensure_ascii=False))
    else:
        click.echo("\n".join(result_lines(value)))


def _line(algorithm: AlgorithmPublic) -> str:
    alias = f" ({algorithm.alias})" if algorithm.alias else ""
    mark = "  [Telegram]" if algorithm.telegram else ""
    return f"{algorithm.id:>4}  {algorithm.name}{alias}{mark}"


def _card(algorithm: AlgorithmPublic) -> str:
    rows = [
        ("id", str(algorithm.id)),
        ("Имя", algorithm.name),
        ("Дополнительное наименование", algorithm.alias or ""),
        ("Алгоритм Telegram", "да" if algorithm.telegram else "нет"),
        ("Изменён", local_time(algorithm.updated_at)),
    ]
    head = "\n".join(f"{label}: {value}" for label, value in rows if value)
    return f"{head}\nКод:\n{algorithm.code}"

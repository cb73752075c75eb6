"""``signal-ext``: the command line of the Signal service."""

from __future__ import annotations

import asyncio
import shutil

import click
from sqlalchemy.engine import make_url

from algorithms.isolation import probe
from signal_ext.commands.algorithms import algorithm_group
from signal_ext.commands.bots import bot_group
from signal_ext.commands.common import AppContext, current_app, load_settings, writing
from signal_ext.commands.keywords import keywords_group
from signal_ext.commands.messages import inbox_group, message_group, rule_command
from signal_ext.commands.params import PORT
from signal_ext.commands.persons import person_group
from signal_ext.commands.processes import process_group
from signal_ext.commands.refusals import SignalGroup
from signal_ext.commands.registrations import registration_group
from signal_ext.commands.scenarios import scenario_group
from signal_ext.commands.service import dispatch_command, emulator_command
from signal_ext.commands.tasks import task_group
from signal_ext.demo import link_demo_chats, load_demo
from signal_ext.redaction import install_log_redaction
from signal_ext.settings import Settings


@click.group(cls=SignalGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def main(ctx: click.Context) -> None:
    """Signal: бизнес-процессы, задачи и оповещения (настройки — переменные SIGNAL_*)."""
    install_log_redaction()
    ctx.obj = ctx.with_resource(_closing(AppContext()))


@main.command("init")
def init() -> None:
    """Создать или обновить схему базы данных."""
    url = make_url(current_app().settings.database_url).render_as_string(hide_password=True)
    click.echo(f"База данных готова: {url}")


@main.command("demo")
@click.option("--no-serve", is_flag=True, help="Только загрузить демо-данные, не запуская сервис.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=PORT)
def demo(no_serve: bool, host: str, port: int) -> None:
    """Загрузить демо-компанию и запустить сервис на встроенном эмуляторе Telegram."""
    with writing() as session:
        added, outcomes = load_demo(session)
        linked = link_demo_chats(session)
    click.echo(f"Демо-данные загружены: сотрудников добавлено {len(added)}, сценариев {len(outcomes)}")
    for outcome in outcomes:
        click.echo(f"  сценарий «{outcome.name}» v{outcome.version}")
    if no_serve:
        click.echo('Попробуйте: signal-ext process start "Согласование договора" --author Иванов')
        return
    settings = load_settings()
    if settings.telegram_token is not None:
        click.echo("Задан SIGNAL_TELEGRAM_TOKEN: демо работает со встроенным эмулятором, токен не используется.")
        settings = settings.model_copy(update={"telegram_token": None})
    click.echo(f"Сотрудники демо подключены к чатам эмулятора: {', '.join(linked)}")
    settings = _demo_isolation(settings)
    from signal_ext.run import run_forever

    asyncio.run(run_forever(settings, host, port, directory_token=False))


def _demo_isolation(settings: Settings) -> Settings:
    """Without a working bubblewrap the demo still runs its own algorithms: without the OS layer, and says so."""
    if settings.algorithms_unisolated:
        return settings
    reason = probe(shutil.which(settings.algorithm_bwrap) or settings.algorithm_bwrap)
    if reason is None:
        return settings
    click.echo(
        f"ВНИМАНИЕ: {reason}; демо выполняет свои алгоритмы БЕЗ изоляции ОС. "
        "Для изоляции установите bubblewrap: apt-get install bubblewrap",
        err=True,
    )
    return settings.model_copy(update={"algorithms_unisolated": True})


@main.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=PORT)
def run(host: str, port: int) -> None:
    """Запустить сервис: боты, планировщик, рассылка и HTTP в одном процессе (Ctrl-C — остановить)."""
    from signal_ext.run import run_forever

    asyncio.run(run_forever(load_settings(), host, port))


main.add_command(person_group)
main.add_command(scenario_group)
main.add_command(process_group)
main.add_command(task_group)
main.add_command(message_group)
main.add_command(inbox_group)
main.add_command(rule_command)
main.add_command(dispatch_command)
main.add_command(emulator_command)
main.add_command(bot_group)
main.add_command(algorithm_group)
main.add_command(keywords_group)
main.add_command(registration_group)


class _closing:
    def __init__(self, context: AppContext) -> None:
        self.context = context

    def __enter__(self) -> AppContext:
        return self.context

    def __exit__(self, *_: object) -> None:
        self.context.close()


if __name__ == "__main__":
    main()

"""``signal-ext dispatch`` and ``signal-ext emulator``: the long-running parts besides ``run``."""

from __future__ import annotations

import asyncio

import click

from signal_ext.bots.system_token import with_directory_token
from signal_ext.commands.common import current_app
from signal_ext.commands.params import PORT


@click.command("dispatch")
@click.option("--once", is_flag=True, help="Отправить то, что пора, и выйти.")
def dispatch_command(once: bool) -> None:
    """Отправить очередь сообщений (без --once — работать, пока не остановят)."""
    app = current_app(with_directory_token)
    if not once:
        from signal_ext.service import serve

        asyncio.run(serve(app))
        return

    async def run() -> None:
        try:
            report = await app.dispatcher.run_until_idle()
        finally:
            await app.aclose()
        click.echo(f"Отправлено: {report.sent}, повтор позже: {report.retried}, ошибок: {report.failed}")

    asyncio.run(run())


@click.command("emulator")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8081, show_default=True, type=PORT, help="0 — любой свободный порт.")
def emulator_command(host: str, port: int) -> None:
    """Запустить эмулятор Telegram Bot API (для тестов и демо) и работать, пока не остановят."""
    from signal_ext.telegram_emulator import serve_forever

    try:
        serve_forever(host, port)
    except (OSError, OverflowError, UnicodeError) as error:  # the port could not be had: nothing started yet
        from signal_ext.run import bind_refusal

        raise bind_refusal(host, port, error) from None

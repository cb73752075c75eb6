"""The system bot's commands and their aliases, as data: case and whitespace never matter."""

from __future__ import annotations

from enum import StrEnum


class Command(StrEnum):
    START = "start"
    MY_KEY = "my_key"
    MENU = "menu"
    NO_MENU = "no_menu"
    MY_TASKS = "my_tasks"
    NEW_TASK = "new_task"
    NEW_PROCESS = "new_process"


ALIASES: dict[Command, tuple[str, ...]] = {
    Command.START: ("/start", "Старт"),
    Command.MY_KEY: ("Мой ключ", "мк", "/key"),
    Command.MENU: ("Меню", "/menu"),
    Command.NO_MENU: ("Без меню", "бм"),
    Command.MY_TASKS: ("Мои задачи", "мз", "Задачи", "/tasks"),
    Command.NEW_TASK: ("Новая задача", "нз", "/newtask"),
    Command.NEW_PROCESS: ("Новый процесс", "нп", "/newprocess"),
}
MENU_BUTTONS = (Command.MY_TASKS, Command.NEW_TASK, Command.NEW_PROCESS)


def normalise(text: str) -> str:
    """``text`` without any whitespace, case-folded: «Мои  задачи» and «мои задачи» are one command."""
    return "".join(text.split()).casefold()


_BY_ALIAS = {normalise(alias): command for command, aliases in ALIASES.items() for alias in aliases}


def command_of(text: str) -> tuple[Command, str] | None:
    """The command ``text`` names and its argument (the deep-link payload of ``/start``), or None."""
    stripped = text.strip()
    first, _, rest = stripped.partition(" ")
    if first.startswith("/"):  # a slash command may carry the bot's name and, for /start, a payload
        first = first.split("@", 1)[0]
        if first.casefold() == "/start":
            return Command.START, rest.strip()
        stripped = first
    command = _BY_ALIAS.get(normalise(stripped))
    return (command, "") if command is not None else None

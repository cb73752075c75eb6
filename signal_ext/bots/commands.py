"""The system bot's commands and their aliases, as data: case and whitespace never matter."""

from __future__ import annotations

import re
from enum import StrEnum


class Command(StrEnum):
    START = "start"
    MY_KEY = "my_key"
    MENU = "menu"
    NO_MENU = "no_menu"
    MY_TASKS = "my_tasks"
    NEW_TASK = "new_task"
    NEW_PROCESS = "new_process"
    PAUSE = "pause"
    RESUME = "resume"


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


_PAUSE = re.compile(r"^\s*(?:/pause(?:@\S+)?|пауза|не\s+беспокоить)(?:\s+(?P<rest>.*))?$", re.IGNORECASE | re.DOTALL)
_PAUSE_TIME = re.compile(r"(?:до|на)\s|\d", re.IGNORECASE)
_RESUME = frozenset(normalise(alias) for alias in ("Возобновить", "/resume"))


def pause_command_of(text: str) -> tuple[Command, str] | None:
    """The system bot's pause commands: «Пауза», «Не беспокоить [до] ВРЕМЯ» (the argument), «Возобновить».

    Kept out of :data:`ALIASES`: constructor bots leave these words to their keywords."""
    if normalise(text) in _RESUME or normalise(text.split("@", 1)[0]) in _RESUME:
        return Command.RESUME, ""
    match = _PAUSE.match(text)
    if match is None:
        return None
    rest = (match["rest"] or "").strip()
    if rest and text.strip()[:5].casefold() == "пауза" and not _PAUSE_TIME.match(rest):
        return None  # «Пауза в работе, …» typed as a task description is not a command
    return Command.PAUSE, rest

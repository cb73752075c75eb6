"""What the dialog engine takes and gives: replies as data, the open choice as a JSON-ready state."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

from keywords.errors import StateError
from keywords.matching import Revision
from processes.errors import ProcessError

Scalar = str | int | float | bool | None
AlgorithmValue = Scalar | list[Scalar]
# ``run_algorithm(name, data)``: runs the named algorithm with ``_ДанныеДляОбработки = data``, returns ``_Результат``
AlgorithmRunner = Callable[[str, list[dict[str, str]]], AlgorithmValue]


class Texts(Protocol):
    """The bot's texts table (``signal_ext.bots.texts.BotTexts`` fits)."""

    def get(self, key: str, /, **values: object) -> str:
        """The text ``key`` with ``values`` inserted."""
        ...


class Reply(BaseModel):
    """One message to send: its text and, when it offers a choice, the labels of its buttons."""

    model_config = ConfigDict(frozen=True)

    text: str
    buttons: tuple[str, ...] = ()


class Pick(BaseModel):
    """One step of the choice history: the choice record's first word and what was picked."""

    model_config = ConfigDict(frozen=True)

    keyword: str
    choice: str


class ChoiceState(BaseModel):
    """An open choice: which record offered it (in which revision of the tree), the buttons, the history.

    ``pending`` is the picked label while a confirmation («Да»/«Нет») is awaited."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    revision: Revision
    node_id: int
    offered: tuple[str, ...]
    history: tuple[Pick, ...] = ()
    pending: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The state as JSON-serialisable data (for the bot's per-chat dialog storage)."""
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChoiceState:
        """The state ``to_dict`` gave; anything else is a :class:`StateError`."""
        try:
            return cls.model_validate(dict(data))
        except (ValidationError, TypeError, ValueError) as error:
            raise StateError("Сохранённое состояние выбора не читается") from error


class Outcome(BaseModel):
    """What the engine answers to a message: the replies, the choice left open (None: none), a failure.

    ``error`` is the :class:`ProcessError` an algorithm raised: the replies already hold the bot's text for it;
    the caller may log it for the designer."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    replies: tuple[Reply, ...]
    state: ChoiceState | None = None
    error: ProcessError | None = None


def format_value(value: str | int | float | bool, texts: Texts) -> str:
    """A scalar ``_Результат`` as the bot says it: whole floats without «.0», booleans as the bot's Да/Нет."""
    if isinstance(value, bool):
        return texts.get("button_yes") if value else texts.get("button_no")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)

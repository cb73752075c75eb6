"""The words of a decision: person kinds as people type them, and a scenario's decision in process data.

An authorization scenario decides through data fields of its process (any step may fill them; the last
value wins): ``decision`` «Зарегистрировать» / «Отклонить»; for a registration ``person`` (an existing
person: id or an unambiguous part of the name) or ``new_name`` (a new person) and ``kind``; for a rejection
``reason``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from processes.errors import ProcessError
from processes.models import PersonKind

APPROVE = "Зарегистрировать"
REJECT = "Отклонить"

KIND_NAMES: Mapping[PersonKind, str] = {
    PersonKind.USER: "пользователь",
    PersonKind.PARTNER: "партнёр",
    PersonKind.COUNTERPARTY: "контрагент",
}
_KIND_WORDS: Mapping[str, PersonKind] = {
    "user": PersonKind.USER,
    "пользователь": PersonKind.USER,
    "сотрудник": PersonKind.USER,
    "partner": PersonKind.PARTNER,
    "партнёр": PersonKind.PARTNER,
    "партнер": PersonKind.PARTNER,
    "counterparty": PersonKind.COUNTERPARTY,
    "контрагент": PersonKind.COUNTERPARTY,
}


def parse_kind(text: str) -> PersonKind:
    """«user» / «Пользователь» / «сотрудник», «partner» / «Партнёр», «counterparty» / «Контрагент»."""
    kind = _KIND_WORDS.get(" ".join(str(text).casefold().split()))
    if kind is None:
        raise ProcessError(f"Вид «{text}» не подходит: укажите user (пользователь), partner или counterparty")
    return kind


@dataclass(frozen=True)
class ScenarioDecision:
    """What an authorization process decided."""

    approve: bool
    person: str | None = None
    new_name: str | None = None
    kind: str | None = None
    reason: str = ""


def decision_of(data: Mapping[str, Any]) -> ScenarioDecision:
    """The decision in a process's data; a missing or unknown ``decision`` is a ProcessError."""
    raw = _text(data.get("decision"))
    word = (raw or "").casefold()
    if word == REJECT.casefold():
        return ScenarioDecision(False, reason=_text(data.get("reason")) or "")
    if word != APPROVE.casefold():
        shown = f"«{raw}»" if raw else "не заполнено"
        raise ProcessError(f"Решение процесса авторизации {shown}: ожидается «{APPROVE}» или «{REJECT}»")
    return ScenarioDecision(
        True, _text(data.get("person")), _text(data.get("new_name")), _text(data.get("kind")), reason=""
    )


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None

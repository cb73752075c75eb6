"""The algorithms directory («Алгоритмы»): adding, changing and finding algorithms by id, name or additional name.

Names match ignoring case and all whitespace («А1» = «а 1»), so no two algorithms may share a name or additional
name under that rule. Code is compiled under the sandbox's rules before it is saved. Every function works in the
caller's session and leaves the commit to it.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from algorithms.errors import AlgorithmError, AlgorithmNotFound, CodeRefused
from algorithms.models import Algorithm, AlgorithmCreate
from algorithms.sandbox import compile_algorithm
from processes.ids import record_id
from processes.timeutil import utcnow

MAX_NAME = 128


def name_key(text: str) -> str:
    """The form names are compared in: case-folded, every whitespace removed."""
    return "".join(text.casefold().split())


def _check_code(code: str, name: str) -> None:
    try:
        compile_algorithm(code)
    except CodeRefused as error:
        raise error.named(name) from None


def _clean_name(value: str, label: str) -> str:
    name = " ".join(value.split())
    if not 1 <= len(name) <= MAX_NAME:
        raise AlgorithmError(f"{label} алгоритма: от 1 до {MAX_NAME} символов")
    if name.isdigit():
        raise AlgorithmError(f"{label} алгоритма «{name}» из одних цифр читалось бы как id; добавьте буквы")
    return name


def _check_free(session: Session, key: str, shown: str, own_id: int | None) -> None:
    for other in list_algorithms(session):
        if other.id == own_id:
            continue
        if key == name_key(other.name) or (other.alias and key == name_key(other.alias)):
            raise AlgorithmError(f"Имя «{shown}» уже занято алгоритмом «{other.name}» (id {other.id})")


def add_algorithm(session: Session, data: AlgorithmCreate) -> Algorithm:
    """Adds an algorithm: a free name, an optional free additional name, code that compiles in the sandbox."""
    name = _clean_name(data.name, "Имя")
    alias = _clean_name(data.alias, "Дополнительное имя") if data.alias and data.alias.strip() else None
    _check_free(session, name_key(name), name, None)
    if alias is not None and name_key(alias) != name_key(name):
        _check_free(session, name_key(alias), alias, None)
    _check_code(data.code, name)
    algorithm = Algorithm(name=name, alias=alias, telegram=data.telegram, code=data.code)
    session.add(algorithm)
    session.flush()
    return algorithm


def update_algorithm(
    session: Session,
    algorithm: Algorithm,
    *,
    code: str | None = None,
    alias: str | None = None,
    telegram: bool | None = None,
) -> Algorithm:
    """Changes the given fields (None = keep); an empty ``alias`` removes the additional name."""
    if alias is not None:
        cleaned = _clean_name(alias, "Дополнительное имя") if alias.strip() else None
        if cleaned is not None and name_key(cleaned) != name_key(algorithm.name):
            _check_free(session, name_key(cleaned), cleaned, algorithm.id)
        algorithm.alias = cleaned
    if code is not None:
        _check_code(code, algorithm.name)
        algorithm.code = code
    if telegram is not None:
        algorithm.telegram = telegram
    algorithm.updated_at = utcnow()
    session.add(algorithm)
    session.flush()
    return algorithm


def find_algorithm(session: Session, ref: str | int) -> Algorithm:
    """The algorithm ``ref`` names: its id, its name or its additional name (ignoring case and whitespace)."""
    text = str(ref).strip()
    number = record_id(text)
    if number is not None:
        found = session.get(Algorithm, number)
        if found is not None:
            return found
    found = _named(list_algorithms(session), text)
    if found is None:
        raise AlgorithmNotFound(text)
    return found


def list_algorithms(session: Session) -> list[Algorithm]:
    """All algorithms, the oldest first."""
    return list(session.exec(select(Algorithm).order_by(col(Algorithm.id))))


def telegram_algorithm_named(session: Session, text: str) -> Algorithm | None:
    """The «Алгоритм Telegram» whose name or additional name is ``text`` (ignoring case and whitespace), if any."""
    candidates = session.exec(select(Algorithm).where(col(Algorithm.telegram)).order_by(col(Algorithm.id))).all()
    return _named(list(candidates), text)


def _named(algorithms: list[Algorithm], text: str) -> Algorithm | None:
    key = name_key(text)
    if not key:
        return None
    for algorithm in algorithms:
        if name_key(algorithm.name) == key:
            return algorithm
    for algorithm in algorithms:
        if algorithm.alias and name_key(algorithm.alias) == key:
            return algorithm
    return None

"""The host side of an algorithm's ``api`` object: each call arrives over the worker's pipe and runs here, against
the database, on behalf of the performer running the algorithm. The worker never sees the database or its URL.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import Any, Protocol

from pydantic import ValidationError
from sqlmodel import Session, col, select

from algorithms.errors import AlgorithmError
from algorithms.models import CollectionRecord
from processes.models import Person, TaskCreate, TaskPublic, TaskStatus
from processes.persons import find_person, match_persons
from processes.queries import list_tasks
from processes.scenarios import current_scenarios
from processes.services import ProcessService
from processes.validation import describe_validation

MAX_PERSONS = 50
MAX_RECORDS = 1000
MAX_RECORD_BYTES = 64 * 1024


class HostApi(Protocol):
    """What the runner needs to answer an algorithm's ``api`` calls."""

    def call(self, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """Executes ``api.<method>(*args, **kwargs)``; raises a ProcessError the algorithm will see."""
        ...


class NoApi:
    """For runs without a database: every call is refused."""

    def call(self, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """Refuses the call."""
        raise AlgorithmError(f"api.{method}: в этом запуске api недоступен")


def person_dict(person: Person) -> dict[str, Any]:
    """A person as an algorithm sees it (also the value of ``_Исполнитель``)."""
    return {
        "id": person.id,
        "name": person.full_name,
        "short_name": person.short_name,
        "kind": str(person.kind),
        "email": person.email,
        "phone": person.phone,
        "inn": person.inn,
        "roles": list(person.roles),
        "active": person.active,
    }


class DatabaseApi:
    """The real ``api``: persons, tasks, scenarios, processes and free-form collections."""

    def __init__(
        self,
        open_session: Callable[[], Session],
        processes: ProcessService,
        performer_id: int | None,
        zone: tzinfo = UTC,
    ) -> None:
        self._open_session = open_session
        self._processes = processes
        self._performer_id = performer_id
        self._zone = zone
        self._methods: dict[str, Callable[..., Any]] = {
            "persons": self.persons,
            "person": self.person,
            "my_tasks": self.my_tasks,
            "scenarios": self.scenarios,
            "create_task": self.create_task,
            "start_process": self.start_process,
            "store": self.store,
            "records": self.records,
        }

    def call(self, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """Executes one call after checking its name and arguments."""
        handler = self._methods.get(method)
        if handler is None:
            raise AlgorithmError(f"api.{method}: такого метода нет")
        try:
            inspect.signature(handler).bind(*args, **kwargs)
        except TypeError as error:
            raise AlgorithmError(f"api.{method}: неверные аргументы ({error})") from None
        try:
            return handler(*args, **kwargs)
        except ValidationError as error:
            raise AlgorithmError(f"api.{method}: {describe_validation(error)}") from None

    def _performer(self, method: str) -> int:
        if self._performer_id is None:
            raise AlgorithmError(f"api.{method}: алгоритм выполняется без исполнителя")
        return self._performer_id

    def _moment(self, value: datetime | None) -> str | None:
        return None if value is None else value.astimezone(self._zone).isoformat(timespec="seconds")

    def _task(self, task: TaskPublic) -> dict[str, Any]:
        return {
            "id": task.id,
            "title": task.title,
            "description": task.description,
            "status": str(task.status),
            "deadline": self._moment(task.deadline),
            "important": task.important,
            "performer": task.performer,
            "author": task.author,
            "process_id": task.process_id,
            "created_at": self._moment(task.created_at),
        }

    def persons(self, text: str) -> list[dict[str, Any]]:
        """Persons whose full or short name contains ``text`` (whole-word matches first), at most 50."""
        with self._open_session() as session:
            return [person_dict(p) for p in match_persons(session, _text(text, "persons"))[:MAX_PERSONS]]

    def person(self, person_id: int) -> dict[str, Any] | None:
        """One person by id, or None."""
        if not isinstance(person_id, int) or isinstance(person_id, bool):
            raise AlgorithmError("api.person: укажите id числом")
        with self._open_session() as session:
            found = session.get(Person, person_id)
            return None if found is None else person_dict(found)

    def my_tasks(self) -> list[dict[str, Any]]:
        """The running performer's active tasks, oldest first."""
        performer_id = self._performer("my_tasks")
        with self._open_session() as session:
            return [self._task(t) for t in list_tasks(session, performer_id, TaskStatus.ACTIVE)]

    def scenarios(self) -> list[str]:
        """The names of the current scenarios."""
        with self._open_session() as session:
            return [s.name for s in current_scenarios(session)]

    def create_task(
        self,
        title: str,
        performer: int | str | None = None,
        description: str = "",
        deadline: str | None = None,
        important: bool = False,
    ) -> int:
        """Creates a standalone task authored by the running performer (its performer by default); its id."""
        author_id = self._performer("create_task")
        performer_id = author_id
        if performer is not None:
            with self._open_session() as session:
                performer_id = find_person(session, performer).id or 0
        data = TaskCreate(
            title=_text(title, "create_task"),
            description=str(description),
            performer_id=performer_id,
            author_id=author_id,
            deadline=self._deadline(deadline),
            important=bool(important),
        )
        return self._processes.create_task(data).id or 0

    def _deadline(self, value: str | None) -> datetime | None:
        if value is None or value == "":
            return None
        text = str(value).strip()
        for parse in (datetime.fromisoformat, lambda t: datetime.strptime(t, "%d.%m.%Y %H:%M")):
            try:
                moment = parse(text)
            except ValueError:
                continue
            return moment if moment.tzinfo is not None else moment.replace(tzinfo=self._zone)
        raise AlgorithmError(f"api.create_task: срок «{text}» не понят; пример: 2026-12-31T18:00 или 31.12.2026 18:00")

    def start_process(self, scenario: str, description: str = "") -> int:
        """Starts a process of ``scenario`` (name or id) with the running performer as author; its id."""
        author_id = self._performer("start_process")
        return self._processes.start_process(_text(scenario, "start_process"), author_id, str(description)).id or 0

    def store(self, collection: str, data: dict[str, Any]) -> int:
        """Stores ``data`` (a dict) as a new record of ``collection``, marked with the performer; its id."""
        name = _text(collection, "store")
        if len(name) > 128:
            raise AlgorithmError("api.store: имя коллекции длиннее 128 символов")
        if not isinstance(data, dict):
            raise AlgorithmError("api.store: данные записи должны быть словарём")
        if len(json.dumps(data, ensure_ascii=False).encode()) > MAX_RECORD_BYTES:
            raise AlgorithmError(f"api.store: запись больше {MAX_RECORD_BYTES // 1024} КБ")
        with self._open_session() as session:
            record = CollectionRecord(collection=name, data=data, person_id=self._performer_id)
            session.add(record)
            session.commit()
            return record.id or 0

    def records(self, collection: str) -> list[dict[str, Any]]:
        """The records of ``collection``, oldest first (at most 1000)."""
        name = _text(collection, "records")
        with self._open_session() as session:
            statement = (
                select(CollectionRecord)
                .where(CollectionRecord.collection == name)
                .order_by(col(CollectionRecord.id))
                .limit(MAX_RECORDS)
            )
            return [
                {"id": r.id, "data": r.data, "person_id": r.person_id, "created_at": self._moment(r.created_at)}
                for r in session.exec(statement)
            ]


def _text(value: Any, method: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise AlgorithmError(f"api.{method}: ожидается непустой текст")
    return value.strip()

"""The host side of an algorithm's ``api`` object: each call arrives over the worker's pipe and runs here, against
the database, on behalf of the performer running the algorithm and for the bot it runs in. The worker never sees
the database or its URL; every argument is checked (:mod:`algorithms.api_arguments`) before it reaches it, and
whatever fails is an ``ApiError`` for the algorithm, never a traceback of the service.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import Any, Protocol

from pydantic import ValidationError
from sqlmodel import Session, col, select

from algorithms.api_arguments import api_flag, api_id, api_moment, api_record, api_text, refuse
from algorithms.errors import AlgorithmError
from algorithms.models import CollectionRecord
from processes.errors import ProcessError
from processes.models import Person, TaskCreate, TaskPublic, TaskStatus
from processes.persons import find_person, match_persons
from processes.queries import list_tasks
from processes.scenarios import current_scenarios
from processes.services import ProcessService
from processes.validation import describe_validation

MAX_PERSONS = 50
MAX_RECORDS = 1000
MAX_QUERY = 300
MAX_TITLE = 500
MAX_DESCRIPTION = 10_000
MAX_COLLECTION = 128

log = logging.getLogger("algorithms")


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
    """The real ``api``: persons, tasks, scenarios, processes and free-form collections (the bot's own by default,
    shared with every bot when a call says ``shared=True``; a run outside any bot uses the shared ones)."""

    def __init__(
        self,
        open_session: Callable[[], Session],
        processes: ProcessService,
        performer_id: int | None,
        zone: tzinfo = UTC,
        bot: str | None = None,
    ) -> None:
        self._open_session = open_session
        self._processes = processes
        self._performer_id = performer_id
        self._zone = zone
        self._bot = bot
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
        """Executes one call after checking its name and arguments; any failure is an AlgorithmError."""
        handler = self._methods.get(method)
        if handler is None:
            raise AlgorithmError(f"api.{method}: такого метода нет")
        try:
            inspect.signature(handler).bind(*args, **kwargs)
        except TypeError:
            raise refuse(method, "неверные аргументы") from None
        try:
            return handler(*args, **kwargs)
        except ValidationError as error:
            raise refuse(method, describe_validation(error)) from None
        except ProcessError:
            raise
        except Exception:  # the database refused what the checks let through: the log has it, the algorithm a line
            log.exception("api.%s: вызов алгоритма не выполнен", method)
            raise refuse(method, "сервис не смог выполнить вызов") from None

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
        needle = api_text(text, "persons", "текст поиска", MAX_QUERY)
        with self._open_session() as session:
            return [person_dict(p) for p in match_persons(session, needle)[:MAX_PERSONS]]

    def person(self, person_id: int) -> dict[str, Any] | None:
        """One person by id, or None."""
        key = api_id(person_id, "person")
        with self._open_session() as session:
            found = session.get(Person, key)
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
        method = "create_task"
        author_id = self._performer(method)
        data = TaskCreate(
            title=api_text(title, method, "название", MAX_TITLE),
            description=api_text(description, method, "описание", MAX_DESCRIPTION, required=False),
            performer_id=self._person_ref(performer, method) if performer is not None else author_id,
            author_id=author_id,
            deadline=api_moment(deadline, method, self._zone),
            important=api_flag(important, method, "important"),
        )
        return self._processes.create_task(data).id or 0

    def _person_ref(self, ref: Any, method: str) -> int:
        """The id of the person ``ref`` names: an id or a part of a name."""
        if isinstance(ref, int) and not isinstance(ref, bool):
            key: int | str = api_id(ref, method, "исполнитель")
        else:
            key = api_text(ref, method, "исполнитель", MAX_QUERY)
        with self._open_session() as session:
            return find_person(session, key).id or 0

    def start_process(self, scenario: str, description: str = "") -> int:
        """Starts a process of ``scenario`` (name or id) with the running performer as author; its id."""
        method = "start_process"
        author_id = self._performer(method)
        name = api_text(scenario, method, "сценарий", MAX_QUERY)
        text = api_text(description, method, "описание", MAX_DESCRIPTION, required=False)
        return self._processes.start_process(name, author_id, text).id or 0

    def _owner(self, shared: Any, method: str) -> str | None:
        """The bot a collection call works with: this run's bot, or None (shared) when asked or outside a bot."""
        return None if api_flag(shared, method, "shared") else self._bot

    def store(self, collection: str, data: dict[str, Any], shared: bool = False) -> int:
        """Stores ``data`` (a dict) as a new record of ``collection`` (the bot's own, or the shared one),
        marked with the performer; its id."""
        name = api_text(collection, "store", "имя коллекции", MAX_COLLECTION)
        record = CollectionRecord(
            collection=name,
            data=api_record(data, "store"),
            person_id=self._performer_id,
            bot=self._owner(shared, "store"),
        )
        with self._open_session() as session:
            session.add(record)
            session.commit()
            return record.id or 0

    def records(self, collection: str, shared: bool = False) -> list[dict[str, Any]]:
        """The records of ``collection`` (the bot's own, or the shared one), oldest first (at most 1000)."""
        name = api_text(collection, "records", "имя коллекции", MAX_COLLECTION)
        owner = self._owner(shared, "records")
        with self._open_session() as session:
            statement = (
                select(CollectionRecord)
                .where(CollectionRecord.collection == name)
                .where(col(CollectionRecord.bot).is_(None) if owner is None else CollectionRecord.bot == owner)
                .order_by(col(CollectionRecord.id))
                .limit(MAX_RECORDS)
            )
            return [
                {"id": r.id, "data": r.data, "person_id": r.person_id, "created_at": self._moment(r.created_at)}
                for r in session.exec(statement)
            ]

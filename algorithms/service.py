"""Running algorithms from the directory: by name for keywords, the CLI and integrations; by a chat message for
«Алгоритм Telegram». A failing algorithm's traceback goes to the log (logger ``algorithms``) for the designer; the
caller gets a short Russian message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlmodel import Session

from algorithms.api import DatabaseApi, person_dict
from algorithms.directory import find_algorithm, telegram_algorithm_named
from algorithms.errors import AlgorithmFailed, AlgorithmStopped, CodeRefused
from algorithms.expression import ExpressionValue
from algorithms.models import Algorithm
from algorithms.runner import AlgorithmRunner
from algorithms.values import AlgorithmValue
from processes.persons import find_person
from processes.services import ProcessService

log = logging.getLogger("algorithms")


class AlgorithmService:
    """Finds algorithms in the directory and runs them in the isolated runner with the database ``api``."""

    def __init__(
        self,
        open_session: Callable[[], Session],
        processes: ProcessService,
        runner: AlgorithmRunner,
        zone: tzinfo = UTC,
    ) -> None:
        self._open_session = open_session
        self._processes = processes
        self.runner = runner
        self._zone = zone

    def run(self, ref: str | int, performer_id: int | None, data: Any = None, bot: str | None = None) -> AlgorithmValue:
        """Runs the algorithm ``ref`` names (id, name or additional name) for ``performer_id`` with ``data``
        as ``_ДанныеДляОбработки``, in the bot named ``bot`` (its collections) or outside any; its ``_Результат``."""
        with self._open_session() as session:
            algorithm = find_algorithm(session, ref)
            performer = self._performer(session, performer_id)
        return self._run(algorithm, performer, performer_id, data, bot)

    def run_telegram(
        self, text: str, performer_id: int | None, data: Any = None, bot: str | None = None
    ) -> AlgorithmValue | None:
        """Runs the «Алгоритм Telegram» whose name or additional name is ``text`` in the bot named ``bot``; None
        when there is none (the bot then goes on to keywords). A result of None is returned as an empty string."""
        with self._open_session() as session:
            algorithm = telegram_algorithm_named(session, text)
            if algorithm is None:
                return None
            performer = self._performer(session, performer_id)
        value = self._run(algorithm, performer, performer_id, data, bot)
        return "" if value is None else value

    def evaluate(self, text: str, now: datetime, chat: str | None = None) -> ExpressionValue | None:
        """Code mode: ``text`` evaluated in the sandbox (see :meth:`AlgorithmRunner.evaluate_expression`)."""
        return self.runner.evaluate_expression(text, now, chat)

    def close(self) -> None:
        """Stops the runner's worker processes."""
        self.runner.close()

    def _performer(self, session: Session, performer_id: int | None) -> dict[str, Any] | None:
        return None if performer_id is None else person_dict(find_person(session, performer_id))

    def _run(
        self,
        algorithm: Algorithm,
        performer: dict[str, Any] | None,
        performer_id: int | None,
        data: Any,
        bot: str | None,
    ) -> AlgorithmValue:
        api = DatabaseApi(self._open_session, self._processes, performer_id, self._zone, bot)
        try:
            return self.runner.run(algorithm.code, performer, data, api)
        except AlgorithmFailed as error:
            log.error(
                "Алгоритм «%s» (id %s) завершился с ошибкой: %s\n%s",
                algorithm.name,
                algorithm.id,
                error.detail,
                error.traceback,
            )
            raise error.named(algorithm.name) from None
        except AlgorithmStopped as error:
            log.error("Алгоритм «%s» (id %s) остановлен: %s", algorithm.name, algorithm.id, error.detail)
            raise error.named(algorithm.name) from None
        except CodeRefused as error:
            log.error("Алгоритм «%s» (id %s): %s", algorithm.name, algorithm.id, error.message)
            raise error.named(algorithm.name) from None

"""The scenario step's second half: when an authorization process ends, its decision settles the request.

:class:`ScenarioDecisions` is an event-bus subscriber: it runs inside the transaction that completed or
cancelled the process, so the request is decided together with it (or not at all). A completed process's data
fields decide (see :mod:`auth.decision`); a cancelled one rejects with its cancel reason. A decision that cannot
be applied (no ``decision``, an unknown person, a wrong kind) hands the request to the responsible person, or
fails it when there is none — it never blocks the process.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlmodel import Session, col, select

from auth.decision import decision_of
from auth.models import Registration, RegistrationStatus
from processes.errors import ProcessError
from processes.events import DomainEvent, ProcessCancelled, ProcessCompleted
from processes.models import Process, ProcessStatus, Task, TaskStatus
from signal_ext.bots.models import Bot
from signal_ext.registrations.decisions import approve_in, hand_over_in, lock_registration, reject_in

log = logging.getLogger("signal_ext.registrations")

CANCELLED_REASON = "процесс авторизации прерван"
REJECTED_REASON = "отказано по результатам проверки"


class ScenarioDecisions:
    """Settles the pending requests whose authorization processes the events complete or cancel."""

    def __call__(self, session: Session, events: Sequence[DomainEvent]) -> None:
        """Runs inside the events' own transaction."""
        ended = [e.process_id for e in events if isinstance(e, ProcessCompleted | ProcessCancelled)]
        if not ended:
            return
        statement = select(Registration.id).where(
            col(Registration.process_id).in_(ended), Registration.status == RegistrationStatus.PENDING
        )
        for registration_id in list(session.exec(statement)):
            if registration_id is not None:
                settle_if_finished(session, lock_registration(session, registration_id))


def settle_if_finished(session: Session, registration: Registration) -> None:
    """Decides the pending ``registration`` (locked by the caller) when its process has ended."""
    if registration.process_id is None or registration.status != RegistrationStatus.PENDING:
        return
    process = session.exec(
        select(Process).where(Process.id == registration.process_id).execution_options(populate_existing=True)
    ).first()
    if process is None or process.status not in (ProcessStatus.COMPLETED, ProcessStatus.CANCELLED):
        return
    if process.status == ProcessStatus.CANCELLED:
        reject_in(session, registration, process.cancel_reason or CANCELLED_REASON)
        return
    decided_by = _last_performer(session, process.id or 0)
    try:
        decision = decision_of(process.data)
        with session.begin_nested():
            if decision.approve:
                bot = session.get(Bot, registration.bot_id)
                kind = decision.kind or (bot.auth_kind if bot is not None else "user")
                approve_in(session, registration, kind, decision.person, decision.new_name, decided_by)
            else:
                reject_in(session, registration, decision.reason or REJECTED_REASON, decided_by)
    except ProcessError as error:
        log.warning("Заявка № %s: решение процесса %s не применено: %s", registration.id, process.id, error.message)
        hand_over_in(session, lock_registration(session, registration.id or 0), f"сценарий: {error.message}")


def _last_performer(session: Session, process_id: int) -> int | None:
    statement = (
        select(Task.performer_id)
        .where(Task.process_id == process_id, Task.status == TaskStatus.DONE)
        .order_by(col(Task.completed_at).desc(), col(Task.id).desc())
    )
    return session.exec(statement).first()

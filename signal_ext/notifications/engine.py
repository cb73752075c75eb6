"""Turns domain events into rendered outbox messages, in the transaction that raised the events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, insert, or_, select
from sqlmodel import Session, SQLModel

from processes.events import DomainEvent, ProcessEvent, TaskEvent
from processes.models import Person, Scenario
from processes.persons import persons_with_role
from processes.rows import PROCESSES, TASKS
from processes.rule_spec import RecipientKind, RuleEvent
from signal_ext.lifecycle.pause import deferred_send_at
from signal_ext.notifications.addresses import address_of
from signal_ext.notifications.models import MessageStatus, NotificationRule
from signal_ext.notifications.templates import TemplateError, Templates
from signal_ext.redaction import redact

RULES: Table = SQLModel.metadata.tables["notification_rule"]
OUTBOX: Table = SQLModel.metadata.tables["outbox"]
RULE_EVENTS = frozenset(event.value for event in RuleEvent)
ACKNOWLEDGE_PREFIX = "ack:"


def task_buttons(task_id: int) -> list[dict[str, str]]:
    """The buttons of a task notification in Telegram: the same actions as in «Мои задачи», and «Ознакомлен»."""
    return [
        {"text": "Подробнее…", "data": f"more:{task_id}"},
        {"text": "Выполнена", "data": f"done:{task_id}"},
        {"text": "Ознакомлен", "data": f"{ACKNOWLEDGE_PREFIX}{task_id}"},
    ]


class NotificationEngine:
    """An event-bus subscriber: for every rule matching an event, one outbox row per recipient."""

    def __init__(self, templates: Templates, zone: ZoneInfo) -> None:
        self._templates = templates
        self._zone = zone

    def __call__(self, session: Session, events: Sequence[DomainEvent]) -> None:
        """Writes the messages ``events`` cause; runs inside the events' own transaction."""
        relevant = [e for e in events if e.name in RULE_EVENTS and isinstance(e, ProcessEvent | TaskEvent)]
        if not relevant:
            return
        facts = _Facts(session, relevant)
        rules = facts.rules({e.name for e in relevant})
        rows = [row for event in relevant for rule in rules for row in self._messages(facts, event, rule)]
        if rows:
            session.connection().execute(insert(OUTBOX), rows)

    def _messages(self, facts: _Facts, event: DomainEvent, rule: NotificationRule) -> list[dict[str, Any]]:
        if rule.event != event.name or not facts.applies(rule, event):
            return []
        approaching = event.name == RuleEvent.TASK_DEADLINE_APPROACHING.value
        if approaching and getattr(event, "lead_minutes", None) != rule.lead_minutes:
            return []
        context = facts.context(event, self._zone)
        return [self._row(facts, event, rule, person, context) for person in facts.recipients(rule, event)]

    def _row(
        self, facts: _Facts, event: DomainEvent, rule: NotificationRule, person: Person, context: dict[str, Any]
    ) -> dict[str, Any]:
        context = {**context, "recipient": {"name": person.full_name, "short_name": person.short_name}}
        task_id = getattr(event, "task_id", None)
        row: dict[str, Any] = {
            "idempotency_key": f"rule:{rule.id}:event:{event.uid}:person:{person.id}:{rule.channel}",
            "rule_id": rule.id,
            "event_uid": event.uid,
            "person_id": person.id,
            "channel": rule.channel,
            "address": facts.address(person, rule.channel),
            "process_id": getattr(event, "process_id", None),
            "task_id": task_id,
            "with_attachments": rule.attachments,
            "buttons": [],
            "manual": False,
            "status": MessageStatus.PENDING,
            "send_at": deferred_send_at(person, rule.channel, rule.critical, facts.now),  # «Не беспокоить»
            "attempts": 0,
            "last_error": "",
            "created_at": facts.now,
            "subject": "",
            "body": "",
        }
        if rule.channel == "telegram" and task_id is not None and person.id == getattr(event, "performer_id", None):
            row["buttons"] = task_buttons(task_id)
        try:
            row["body"] = self._templates.render(rule.template, context)
            row["subject"] = self._templates.render(rule.subject, context) if rule.subject else ""
        except TemplateError as error:
            row.update(status=MessageStatus.FAILED, last_error=redact(f"Правило {rule.id}: {error}"))
        if row["address"] is None and row["status"] == MessageStatus.PENDING:
            row.update(status=MessageStatus.FAILED, last_error=f"У получателя нет адреса для канала {rule.channel}")
        return row


class _Facts:
    """What the rules of one unit of work need to know, each read at most once."""

    def __init__(self, session: Session, events: Sequence[DomainEvent]) -> None:
        self.session = session
        self.connection = session.connection()
        self.now = datetime.now(tz=ZoneInfo("UTC"))
        task_ids = {e.task_id for e in events if isinstance(e, TaskEvent)}
        self.tasks = self._by_id(TASKS, task_ids)
        process_ids = {getattr(e, "process_id", None) for e in events} - {None}
        self.processes = self._by_id(PROCESSES, {pid for pid in process_ids if pid is not None})
        self._persons: dict[int, Person] = {}
        self._addresses: dict[tuple[int, str], str | None] = {}

    def _by_id(self, table: Table, ids: set[int]) -> dict[int, dict[str, Any]]:
        if not ids:
            return {}
        rows = self.connection.execute(select(table).where(table.c.id.in_(ids))).mappings()
        return {row["id"]: dict(row) for row in rows}

    def rules(self, event_names: set[str]) -> list[NotificationRule]:
        scenario_ids = {p["scenario_id"] for p in self.processes.values()}
        scope = or_(RULES.c.scenario_id.is_(None), RULES.c.scenario_id.in_(scenario_ids))
        statement = select(RULES).where(RULES.c.enabled, RULES.c.event.in_(event_names), scope)
        return [NotificationRule(**row) for row in self.connection.execute(statement).mappings()]

    def applies(self, rule: NotificationRule, event: DomainEvent) -> bool:
        process = self.processes.get(getattr(event, "process_id", None) or 0)
        return rule.scenario_id is None or (process is not None and process["scenario_id"] == rule.scenario_id)

    def person(self, person_id: int | None) -> Person | None:
        if person_id is None:
            return None
        if person_id not in self._persons:
            found = self.session.get(Person, person_id)
            if found is None:
                return None
            self._persons[person_id] = found
        return self._persons[person_id]

    def recipients(self, rule: NotificationRule, event: DomainEvent) -> list[Person]:
        kind = RecipientKind(rule.recipient_kind)
        if kind is RecipientKind.ROLE:
            return list(persons_with_role(self.session, rule.recipient_role or ""))
        process = self.processes.get(getattr(event, "process_id", None) or 0)
        task = self.tasks.get(getattr(event, "task_id", None) or 0)
        person_id = {
            RecipientKind.PROCESS_AUTHOR: process["author_id"] if process else None,
            RecipientKind.TASK_PERFORMER: task["performer_id"] if task else None,
            RecipientKind.TASK_AUTHOR: task["author_id"] if task else None,
            RecipientKind.PERSON: rule.recipient_person_id,
        }[kind]
        person = self.person(person_id)
        return [person] if person is not None and person.active else []

    def address(self, person: Person, channel: str) -> str | None:
        key = (person.id or 0, channel)
        if key not in self._addresses:
            self._addresses[key] = address_of(self.session, person, channel)
        return self._addresses[key]

    def context(self, event: DomainEvent, zone: ZoneInfo) -> dict[str, Any]:
        process = self.processes.get(getattr(event, "process_id", None) or 0)
        task = self.tasks.get(getattr(event, "task_id", None) or 0)
        return {
            "event": event.name,
            "process": self._process_context(process, zone) if process else None,
            "task": self._task_context(task, zone) if task else None,
            "lead": _duration_text(getattr(event, "lead_minutes", 0)),
        }

    def _name(self, person_id: int | None) -> str:
        person = self.person(person_id)
        return person.full_name if person else ""

    def _process_context(self, process: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
        scenario = self.session.get(Scenario, process["scenario_id"])
        return {
            "id": process["id"],
            "scenario": scenario.name if scenario else "",
            "description": process["description"],
            "status": process["status"],
            "author": self._name(process["author_id"]),
            "deadline": _local(process["deadline"], zone),
            "data": process["data"],
        }

    def _task_context(self, task: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
        return {
            "id": task["id"],
            "title": task["title"],
            "description": task["description"],
            "deadline": _local(task["deadline"], zone),
            "important": task["important"],
            "performer": self._name(task["performer_id"]),
            "author": self._name(task["author_id"]),
            "status": task["status"],
            "comment": task["comment"],
            "data": task["data"],
        }


def _local(moment: datetime | None, zone: ZoneInfo) -> str:
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(zone).strftime("%d.%m.%Y %H:%M")


def _duration_text(minutes: int) -> str:
    if not minutes:
        return ""
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} д" if days else "", f"{hours} ч" if hours else "", f"{mins} мин" if mins else ""]
    return " ".join(part for part in parts if part)

"""The authorization chain and registration requests at the service level, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlmodel import col, select

from algorithms.directory import add_algorithm
from algorithms.models import AlgorithmCreate
from auth.models import Registration, RegistrationStage, RegistrationStatus
from processes.errors import InvalidState, ProcessError
from processes.models import Person, PersonCreate, PersonKind, Task, TaskStatus
from signal_ext.bootstrap import App
from signal_ext.bots.directory import add_bot, find_bot
from signal_ext.bots.models import BotCreate
from signal_ext.notifications.chats import link_chat
from signal_ext.notifications.models import OutboxMessage
from signal_ext.registrations import (
    approve,
    parse_callback,
    pending_request,
    registered_person,
    reject,
    set_auth,
    submit,
)
from tests.helpers import seed

SCENARIO = """
scenarios:
  - name: Авторизация
    steps:
      - title: Проверить заявку
        performer: {person: Админов}
        fields:
          - {name: decision, title: Решение, type: choice, choices: [Зарегистрировать, Отклонить]}
          - {name: person, title: Кто это, required: false}
          - {name: new_name, title: Новый, required: false}
          - {name: kind, title: Вид, required: false}
          - {name: reason, title: Причина, required: false}
"""
BY_INN = """
наименование, инн = [часть.strip() for часть in _ДанныеДляОбработки.split(",")]
найдено = [p for p in api.persons(наименование) if p["inn"] == инн]
_Результат = найдено[0]["inn"] if найдено else None
"""
PEOPLE = [
    PersonCreate(full_name="Админов Админ", roles=["admin"]),
    PersonCreate(full_name="Петров Пётр"),
    PersonCreate(full_name="ООО Ромашка", kind=PersonKind.COUNTERPARTY, inn="7701234567"),
    PersonCreate(full_name="Альфа Партнёр", kind=PersonKind.PARTNER, phone="+7 916 123-45-67"),
]
BOT = "shop"
CHAT = "555"
RESPONSIBLE_CHAT = "9001"


@pytest.fixture
def world(app: App) -> dict[str, int]:
    """See :func:`make_world`."""
    return make_world(app)


def make_world(app: App) -> dict[str, int]:
    """The persons (by short key), the scenario, the «По ИНН» algorithm and the bot «shop» with auth on."""
    admin, petrov, romashka, alfa = seed(app, SCENARIO, PEOPLE)
    with app.open_session() as session:
        add_algorithm(session, AlgorithmCreate(name="По ИНН", code=BY_INN))
        add_bot(session, BotCreate(name=BOT, auth_enabled=True))
        person = session.get(Person, admin)
        assert person is not None
        link_chat(session, person, RESPONSIBLE_CHAT)
        session.commit()
    return {"admin": admin, "petrov": petrov, "romashka": romashka, "alfa": alfa}


def configure(app: App, **settings: str | bool) -> None:
    """Sets the bot's chain settings through the service."""
    with app.open_session() as session:
        set_auth(session, find_bot(session, BOT), **settings)  # type: ignore[arg-type]
        session.commit()


def registration(app: App, registration_id: int | None) -> Registration:
    with app.read_session() as session:
        found = session.get(Registration, registration_id)
    assert found is not None
    return found


def outbox(app: App, key_part: str = "registration:") -> list[OutboxMessage]:
    with app.read_session() as session:
        rows = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
    return [row for row in rows if key_part in row.idempotency_key]


def registered_as(app: App, chat: str = CHAT) -> str | None:
    with app.read_session() as session:
        person = registered_person(session, BOT, chat)
    return person.full_name if person else None


def scenario_task(app: App, process_id: int | None) -> Task:
    with app.read_session() as session:
        task = session.exec(select(Task).where(Task.process_id == process_id, Task.status == TaskStatus.ACTIVE)).one()
    return task


def test_algorithm_alone_registers_the_counterparty_found_by_inn(app: App, world: dict[str, int]) -> None:
    configure(app, algorithm="По ИНН")
    outcome = submit(app, BOT, CHAT, "ООО Ромашка, 7701234567", applicant="Мария")
    assert (outcome.text_key, outcome.person_name) == ("auth_success", "ООО Ромашка")
    assert registration(app, outcome.registration_id).stage == RegistrationStage.ALGORITHM
    assert registered_as(app) == "ООО Ромашка"
    assert registered_as(app, "other") is None


def test_algorithm_alone_failing_gives_the_error_text(app: App, world: dict[str, int]) -> None:
    configure(app, algorithm="По ИНН")
    outcome = submit(app, BOT, CHAT, "просто текст без запятой")
    assert (outcome.status, outcome.text_key) == (RegistrationStatus.FAILED, "auth_error")
    assert "алгоритм" in registration(app, outcome.registration_id).reason
    assert registered_as(app) is None and outbox(app) == []


@pytest.mark.parametrize("verdict", ["Зарегистрировать", "Отклонить"])
def test_algorithm_fails_then_the_scenario_decides(app: App, world: dict[str, int], verdict: str) -> None:
    configure(app, algorithm="По ИНН", scenario="Авторизация")
    outcome = submit(app, BOT, CHAT, "ООО Неизвестная, 000")
    assert (outcome.status, outcome.text_key) == (RegistrationStatus.PENDING, "auth_pending")
    pending = registration(app, outcome.registration_id)
    assert pending.stage == RegistrationStage.SCENARIO and pending.process_id is not None
    task = scenario_task(app, pending.process_id)
    assert task.description == "ООО Неизвестная, 000" and task.performer_id == world["admin"]
    data = {"decision": verdict, "new_name": "ООО Неизвестная", "kind": "Контрагент", "reason": "не наш клиент"}
    app.processes.complete_task(task.id or 0, "", data)
    decided = registration(app, outcome.registration_id)
    [told] = outbox(app)
    assert (told.bot, told.address, told.channel) == (BOT, CHAT, "telegram")
    if verdict == "Зарегистрировать":
        assert decided.status == RegistrationStatus.REGISTERED and decided.decided_by_id == world["admin"]
        assert registered_as(app) == "ООО Неизвестная"
        assert told.idempotency_key == f"registration:{decided.id}:approved" and "ООО Неизвестная" in told.body
    else:
        assert (decided.status, decided.reason) == (RegistrationStatus.REJECTED, "не наш клиент")
        assert told.idempotency_key == f"registration:{decided.id}:rejected" and "не наш клиент" in told.body


def test_a_cancelled_process_rejects_with_its_reason(app: App, world: dict[str, int]) -> None:
    configure(app, scenario="Авторизация")
    outcome = submit(app, BOT, CHAT, "Кто-то")
    app.processes.cancel_process(registration(app, outcome.registration_id).process_id or 0, "дубль")
    assert (registration(app, outcome.registration_id).reason, registered_as(app)) == ("дубль", None)
    assert "дубль" in outbox(app)[0].body


def test_an_unusable_decision_goes_to_the_responsible_person(app: App, world: dict[str, int]) -> None:
    configure(app, scenario="Авторизация", responsible="Админов")
    outcome = submit(app, BOT, CHAT, "Кто-то")
    task = scenario_task(app, registration(app, outcome.registration_id).process_id)
    app.processes.complete_task(task.id or 0, "", {"decision": "Зарегистрировать", "person": "Никого Такого"})
    handed = registration(app, outcome.registration_id)
    assert (handed.status, handed.stage) == (RegistrationStatus.PENDING, RegistrationStage.RESPONSIBLE)
    assert "Никого Такого" in handed.reason
    assert {row.channel for row in outbox(app)} == {"telegram", "inbox"}


def test_scenario_that_cannot_start_hands_over_to_the_responsible(app: App, world: dict[str, int]) -> None:
    configure(app, scenario="Авторизация", responsible="Админов")
    with app.open_session() as session:
        find_bot(session, BOT).auth_scenario = "Удалённый сценарий"
        session.commit()
    outcome = submit(app, BOT, CHAT, "<b>Иван</b> & Co", applicant="Ivan <script>", phone=None)
    assert outcome.text_key == "auth_pending"
    pending = registration(app, outcome.registration_id)
    assert pending.stage == RegistrationStage.RESPONSIBLE and "сценарий не запущен" in pending.reason
    telegram, inbox = outbox(app)
    assert (telegram.channel, telegram.address, telegram.bot, telegram.person_id) == (
        "telegram",
        RESPONSIBLE_CHAT,
        None,
        world["admin"],
    )
    assert [b["data"] for b in telegram.buttons] == [f"reg:{pending.id}:approve", f"reg:{pending.id}:reject"]
    assert parse_callback(telegram.buttons[0]["data"]) == (pending.id, "approve")
    assert "&lt;b&gt;Иван&lt;/b&gt; &amp; Co" in telegram.body and "<b>Иван" not in telegram.body
    assert "Ivan &lt;script&gt;" in telegram.body and f"№ {pending.id}" in telegram.body
    assert (inbox.channel, inbox.address, inbox.buttons) == ("inbox", str(world["admin"]), [])


@pytest.mark.parametrize(
    ("kind", "person_ref", "new_name", "expected"),
    [
        ("user", "Петров", None, "Петров Пётр"),
        ("partner", "Альфа", None, "Альфа Партнёр"),
        ("counterparty", "Ромашка", None, "ООО Ромашка"),
        ("user", None, "Сидоров Сидор", "Сидоров Сидор"),
        ("partner", None, "ИП Бета", "ИП Бета"),
        ("counterparty", None, "АО Гамма", "АО Гамма"),
    ],
)
def test_the_responsible_approves_as_each_kind(
    app: App, world: dict[str, int], kind: str, person_ref: str | None, new_name: str | None, expected: str
) -> None:
    configure(app, responsible="Админов")
    outcome = submit(app, BOT, CHAT, "Я новенький")
    decided = approve(app, outcome.registration_id or 0, kind, person_ref, new_name, decided_by=world["admin"])
    assert decided.status == RegistrationStatus.REGISTERED and decided.decided_by_id == world["admin"]
    assert registered_as(app) == expected
    with app.read_session() as session:
        person = session.get(Person, decided.person_id)
    assert person is not None and person.kind == kind
    told = outbox(app, ":approved")
    assert [(r.address, r.bot, r.person_id) for r in told] == [(CHAT, BOT, decided.person_id)]


def test_the_kind_must_match_and_nothing_is_half_written(app: App, world: dict[str, int]) -> None:
    configure(app, responsible="Админов")
    outcome = submit(app, BOT, CHAT, "Я новенький")
    with pytest.raises(ProcessError, match="контрагент, а не партнёр"):
        approve(app, outcome.registration_id or 0, "partner", "Ромашка")
    assert registration(app, outcome.registration_id).status == RegistrationStatus.PENDING
    assert registered_as(app) is None and outbox(app, ":approved") == []


def test_the_responsible_rejects_with_a_reason(app: App, world: dict[str, int]) -> None:
    configure(app, responsible="Админов")
    outcome = submit(app, BOT, CHAT, "Я новенький")
    reject(app, outcome.registration_id or 0, "Нет <такого> сотрудника")
    [told] = outbox(app, ":rejected")
    assert "Нет &lt;такого&gt; сотрудника" in told.body and told.address == CHAT
    with pytest.raises(InvalidState, match="уже отклонена"):
        approve(app, outcome.registration_id or 0, "user", "Петров")
    assert registered_as(app) is None


def test_nothing_configured_fails_with_the_error_text(app: App, world: dict[str, int]) -> None:
    outcome = submit(app, BOT, CHAT, "Я")
    assert (outcome.status, outcome.text_key) == (RegistrationStatus.FAILED, "auth_error")
    assert registration(app, outcome.registration_id).stage == RegistrationStage.NONE


def test_own_phone_registers_before_the_rest(app: App, world: dict[str, int]) -> None:
    configure(app, responsible="Админов")
    outcome = submit(app, BOT, CHAT, "+79161234567", phone="8 (916) 123-45-67")
    assert (outcome.text_key, outcome.person_name) == ("auth_success", "Альфа Партнёр")
    assert registration(app, outcome.registration_id).stage == RegistrationStage.PHONE


def test_a_pending_request_blocks_a_new_one(app: App, world: dict[str, int]) -> None:
    configure(app, responsible="Админов")
    first = submit(app, BOT, CHAT, "Раз")
    second = submit(app, BOT, CHAT, "Два")
    assert (second.text_key, second.registration_id) == ("auth_already_pending", first.registration_id)
    with app.read_session() as session:
        assert len(session.exec(select(Registration)).all()) == 1
        assert pending_request(session, BOT, CHAT) is not None


def test_the_hourly_limit(app: App, world: dict[str, int]) -> None:
    app.settings = app.settings.model_copy(update={"auth_requests_per_hour": 2})
    assert [submit(app, BOT, CHAT, "x").text_key for _ in range(3)] == ["auth_error", "auth_error", "auth_too_many"]
    assert submit(app, BOT, CHAT, "x").values == {"count": "2"}
    assert submit(app, BOT, "another chat", "x").text_key == "auth_error"
    later = app.clock
    app.clock = lambda: later() + timedelta(hours=1, minutes=1)
    assert submit(app, BOT, CHAT, "x").text_key == "auth_error"


def test_approving_twice_registers_once_and_reject_after_approve_is_refused(app: App, world: dict[str, int]) -> None:
    configure(app, responsible="Админов")
    outcome = submit(app, BOT, CHAT, "Я")
    first = approve(app, outcome.registration_id or 0, "user", None, "Новый Человек")
    again = approve(app, outcome.registration_id or 0, "user", None, "Новый Человек")
    assert again.person_id == first.person_id and len(outbox(app, ":approved")) == 1
    with pytest.raises(InvalidState, match="уже одобрена"):
        approve(app, outcome.registration_id or 0, "user", "Петров")
    with pytest.raises(InvalidState, match="уже одобрена"):
        reject(app, outcome.registration_id or 0, "передумали")
    with app.read_session() as session:
        assert len(session.exec(select(Person).where(Person.full_name == "Новый Человек")).all()) == 1


@pytest.mark.parametrize("round_", range(2))
def test_two_simultaneous_approvals_register_once(app: App, world: dict[str, int], round_: int) -> None:
    configure(app, responsible="Админов")
    outcome = submit(app, BOT, CHAT, "Я")
    barrier = threading.Barrier(2)
    results: list[int | None] = []

    def press() -> None:
        barrier.wait()
        results.append(approve(app, outcome.registration_id or 0, "user", None, "Гонка Гонков").person_id)

    threads = [threading.Thread(target=press) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2 and len(set(results)) == 1
    assert len(outbox(app, ":approved")) == 1
    with app.read_session() as session:
        assert len(session.exec(select(Person).where(Person.full_name == "Гонка Гонков")).all()) == 1


def test_refusals_of_the_call_itself(app: App, world: dict[str, int]) -> None:
    with pytest.raises(ProcessError, match="пусты"):
        submit(app, BOT, CHAT, "   ")
    configure(app, enabled=False)
    with pytest.raises(ProcessError, match="авторизация выключена"):
        submit(app, BOT, CHAT, "Я")
    with pytest.raises(ProcessError, match="Не найдено"):
        submit(app, "system", CHAT, "Я")

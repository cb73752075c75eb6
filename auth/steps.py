"""The chain's steps, each built from the small callables (ports) it needs, so it stays free of any framework.

A step that is not configured, fails or cannot start hands over with a Russian note; a port's
:class:`~processes.errors.ProcessError` is such a failure, any other exception is a bug and propagates.
"""

from __future__ import annotations

from collections.abc import Callable

from auth.chain import AuthRequest, HandOver, Pending, Registered, Step, StepOutcome
from auth.models import RegistrationStage
from processes.errors import ProcessError

RunAlgorithm = Callable[[str, str], object]
"""Runs the algorithm named by the first argument with the data as ``_ДанныеДляОбработки``; its ``_Результат``."""
ResolvePerson = Callable[[object], int | None]
"""The id of the one person an algorithm's result names, or None."""
FindByPhone = Callable[[str], int | None]
"""The id of the one person with this phone, or None."""
StartProcess = Callable[[str, str], int]
"""Starts the scenario named by the first argument with the data as the description; the process id."""
IsAvailable = Callable[[int], bool]
"""Whether the responsible person may receive requests (exists, active, not blocked)."""


def phone_step(find_by_phone: FindByPhone) -> Step:
    """Registers when the applicant's own phone belongs to exactly one person."""

    def step(request: AuthRequest) -> StepOutcome:
        if not request.phone:
            return HandOver("телефон не передан")
        try:
            person_id = find_by_phone(request.phone)
        except ProcessError as error:
            return HandOver(f"телефон: {error.message}")
        return Registered(person_id) if person_id is not None else HandOver(f"телефон {request.phone} не найден")

    return step


def algorithm_step(run: RunAlgorithm, resolve: ResolvePerson) -> Step:
    """Registers when the bot's algorithm returns a ``_Результат`` naming exactly one person."""

    def step(request: AuthRequest) -> StepOutcome:
        if not request.algorithm:
            return HandOver("алгоритм не задан")
        try:
            result = run(request.algorithm, request.data)
        except ProcessError as error:
            return HandOver(f"алгоритм: {error.message}")
        if result is None or result == "" or result == []:
            return HandOver("алгоритм вернул пустой результат")
        person_id = resolve(result)
        if person_id is None:
            return HandOver(f"алгоритм: результат «{result}» не указывает на одного человека")
        return Registered(person_id)

    return step


def scenario_step(start: StartProcess) -> Step:
    """Starts the bot's authorization scenario; its process decides later."""

    def step(request: AuthRequest) -> StepOutcome:
        if not request.scenario:
            return HandOver("сценарий не задан")
        try:
            process_id = start(request.scenario, request.data)
        except ProcessError as error:
            return HandOver(f"сценарий не запущен: {error.message}")
        return Pending(RegistrationStage.SCENARIO, process_id)

    return step


def responsible_step(available: IsAvailable) -> Step:
    """Hands the request to the bot's responsible person, who approves or rejects it later."""

    def step(request: AuthRequest) -> StepOutcome:
        if request.responsible_id is None:
            return HandOver("ответственный не задан")
        if not available(request.responsible_id):
            return HandOver("ответственный недоступен (не найден, неактивен или заблокирован)")
        return Pending(RegistrationStage.RESPONSIBLE)

    return step

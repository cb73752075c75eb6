"""The authorization chain: steps tried in order until one decides (aiogram-middleware style, no framework).

Each step is one small callable taking an :class:`AuthRequest` and returning :class:`Registered`,
:class:`Rejected`, :class:`Pending` or :class:`HandOver`. The first three end the chain; a hand-over passes the
request to the next step, remembering why. When every step hands over, the request fails (:class:`Failed`):
the applicant gets the authorization-error text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from auth.models import RegistrationStage


@dataclass(frozen=True)
class AuthRequest:
    """What an applicant sent to one bot, with that bot's chain settings."""

    data: str
    """The text the applicant typed and confirmed (the algorithm's ``_ДанныеДляОбработки``)."""
    applicant: str = ""
    """The applicant's Telegram name, as their client sent it."""
    phone: str | None = None
    """The applicant's own phone from a shared contact, if any."""
    algorithm: str | None = None
    scenario: str | None = None
    responsible_id: int | None = None


@dataclass(frozen=True)
class Registered:
    """The chat is registered as ``person_id`` right away."""

    person_id: int


@dataclass(frozen=True)
class Rejected:
    """The request is refused; the applicant is told ``reason``."""

    reason: str


@dataclass(frozen=True)
class Pending:
    """Someone (a scenario's process or the responsible person) decides later."""

    stage: RegistrationStage
    process_id: int | None = None


@dataclass(frozen=True)
class HandOver:
    """This step cannot decide; ``why`` (Russian) is kept for the administrator."""

    why: str


@dataclass(frozen=True)
class Failed:
    """No step could decide: the applicant gets the authorization-error text."""


StepOutcome = Registered | Rejected | Pending | HandOver
Step = Callable[[AuthRequest], StepOutcome]


@dataclass(frozen=True)
class ChainResult:
    """How the chain ended: the deciding step's stage (NONE when it failed) and every step's hand-over note."""

    outcome: Registered | Rejected | Pending | Failed
    stage: RegistrationStage
    notes: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """The hand-over notes in one line, «; »-separated."""
        return "; ".join(self.notes)


def run_chain(request: AuthRequest, steps: Sequence[tuple[RegistrationStage, Step]]) -> ChainResult:
    """Tries ``steps`` in order; the first that does not hand over decides."""
    notes: list[str] = []
    for stage, step in steps:
        outcome = step(request)
        if isinstance(outcome, HandOver):
            notes.append(outcome.why)
            continue
        return ChainResult(outcome, outcome.stage if isinstance(outcome, Pending) else stage, notes)
    return ChainResult(Failed(), RegistrationStage.NONE, notes)

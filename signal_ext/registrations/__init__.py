"""Registration requests (docs/authorization.md): the service the bots, the CLI and the API call.

* :func:`submit` — an applicant's confirmed data → :class:`SubmitOutcome` (the text key the bot says);
* :func:`approve` / :func:`reject` — a responsible person's decision (idempotent, safe under concurrency);
* :func:`registered_person`, :func:`pending_request`, :func:`list_registrations` — reading;
* :func:`set_auth` — a bot's chain settings;
* :func:`parse_callback` — the ``reg:<id>:approve|reject`` data of the responsible person's buttons;
* :class:`ScenarioDecisions` — the bus subscriber that settles requests when authorization processes end.
"""

from signal_ext.registrations.bots import set_auth
from signal_ext.registrations.decisions import approve, reject
from signal_ext.registrations.notify import APPROVE_ACTION, REJECT_ACTION, callback_data, parse_callback
from signal_ext.registrations.queries import (
    RegistrationPublic,
    list_registrations,
    parse_status,
    pending_request,
    registered_person,
)
from signal_ext.registrations.scenario_events import ScenarioDecisions
from signal_ext.registrations.submit import SubmitOutcome, submit

__all__ = [
    "APPROVE_ACTION",
    "REJECT_ACTION",
    "RegistrationPublic",
    "ScenarioDecisions",
    "SubmitOutcome",
    "approve",
    "callback_data",
    "list_registrations",
    "parse_callback",
    "parse_status",
    "pending_request",
    "registered_person",
    "reject",
    "set_auth",
    "submit",
]

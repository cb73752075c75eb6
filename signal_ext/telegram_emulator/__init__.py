"""A Telegram Bot API emulator: python-telegram-bot reaches it through ``base_url`` as a self-hosted Bot API server.

It records what bots send, queues updates that simulated users produce, enforces Telegram's rate limits when asked,
and injects faults (server errors, timeouts, dropped connections, lost answers, blocked users) for tests.
"""

from .app import create_emulator_app
from .faults import FaultConfig
from .limits import LimitConfig
from .server import EmulatorServer, serve_forever
from .state import EmulatorState

__all__ = ["EmulatorServer", "EmulatorState", "FaultConfig", "LimitConfig", "create_emulator_app", "serve_forever"]

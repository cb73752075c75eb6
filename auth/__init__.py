"""Authorization of new chats (docs/authorization.md): the framework-free chain of steps and the words its
decisions use.

:mod:`auth.chain` runs the steps in order; :mod:`auth.steps` builds each step from small callables (ports), so
nothing here imports Telegram, HTTP or the database session; :mod:`auth.decision` reads a scenario's decision
from process data; :mod:`auth.models` is the table of registration requests.
"""

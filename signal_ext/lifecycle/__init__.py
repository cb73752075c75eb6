"""The life of a person's chats (docs/lifecycle.md): block, unblock, delete, pause, resume.

* :mod:`.access` — what a chat of a bot is now: linked, unlinked, blocked, or revoked (told once, then unlinked);
* :mod:`.persons` — ``person block|unblock|delete``: the person's state and what each chat is told;
* :mod:`.pause` — «Не беспокоить»: ``Person.paused_until`` and the notifications deferred until then;
* :mod:`.pause_dialog` — the system bot's «Пауза» / «Не беспокоить …» / «Возобновить».
"""

"""The keyword directory («Ключевые слова») of a chat-bot and the dialog engine that walks it.

A designer keeps a bot's keywords in a YAML file (:mod:`keywords.file`), loads it into the ``keyword`` table
(:mod:`keywords.store`), and the bot answers messages with :class:`keywords.engine.KeywordEngine` over an
immutable :class:`keywords.matching.KeywordTree`. Domain core: no Telegram, HTTP or ``signal_ext`` here."""

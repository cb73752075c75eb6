"""``signal-ext keywords``: a bot's keyword directory («Ключевые слова»)."""

from __future__ import annotations

import click


@click.group("keywords")
def keywords_group() -> None:
    """Ключевые слова чат-бота: загрузка из YAML, выгрузка, дерево."""

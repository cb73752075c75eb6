"""``signal-ext algorithm``: the algorithms directory («Алгоритмы»)."""

from __future__ import annotations

import click


@click.group("algorithm")
def algorithm_group() -> None:
    """Алгоритмы: код проектировщика, выполняемый изолированно."""

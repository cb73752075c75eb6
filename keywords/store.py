"""A bot's keyword rows: replaced all at once from a checked file, read back as a tree, a YAML file or a listing."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import yaml
from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from keywords.file import KIND_NAMES, KeywordSpec
from keywords.matching import KeywordNode, KeywordTree, Revision
from keywords.models import Keyword, KeywordKind


def _row(spec: KeywordSpec, bot_id: int, parent_id: int | None, position: int) -> Keyword:
    return Keyword(
        bot_id=bot_id,
        parent_id=parent_id,
        position=position,
        words=spec.words,
        kind=spec.kind,
        answer=spec.answer,
        algorithm=spec.algorithm,
        choice_title=spec.title,
        confirm=spec.confirm,
        target=spec.target,
        deleted=spec.deleted,
    )


def replace_tree(session: Session, bot_id: int, records: Sequence[KeywordSpec]) -> int:
    """Replaces the bot's keywords with ``records`` (checked by :mod:`keywords.file` first); returns the rows added.

    The new rows are inserted before the old ones are deleted, so their ids are greater and the revision
    changes even when the database reuses ids. Nothing is committed: the caller commits (or rolls back)."""
    old_max = session.exec(select(func.max(Keyword.id)).where(Keyword.bot_id == bot_id)).one()
    level: list[tuple[KeywordSpec, int | None, int]] = [(spec, None, i) for i, spec in enumerate(records)]
    added = 0
    while level:
        rows = [(spec, _row(spec, bot_id, parent, position)) for spec, parent, position in level]
        session.add_all(row for _spec, row in rows)
        session.flush()
        added += len(rows)
        level = [(child, row.id, i) for spec, row in rows for i, child in enumerate(spec.choices)]
    if old_max is not None:
        session.execute(delete(Keyword).where(col(Keyword.bot_id) == bot_id, col(Keyword.id) <= old_max))
    return added


def revision(session: Session, bot_id: int) -> Revision:
    """A cheap fingerprint of the bot's keywords: (row count, greatest id). A reload always changes it."""
    count, greatest = session.exec(
        select(func.count(col(Keyword.id)), func.max(Keyword.id)).where(Keyword.bot_id == bot_id)
    ).one()
    return int(count), int(greatest or 0)


def load_tree(session: Session, bot_id: int) -> KeywordTree:
    """The bot's keyword tree, deleted records kept for display but not matched."""
    rows = list(session.exec(select(Keyword).where(Keyword.bot_id == bot_id)))
    greatest = max((row.id or 0 for row in rows), default=0)
    return KeywordTree.from_rows(rows, (len(rows), greatest))


def spec_tree(records: Sequence[KeywordSpec]) -> KeywordTree:
    """The tree ``records`` would give once loaded, without a database (ids numbered in file order)."""
    rows: list[Keyword] = []

    def add(specs: Iterable[KeywordSpec], parent: int | None) -> None:
        for position, spec in enumerate(specs):
            row = _row(spec, 0, parent, position)
            row.id = len(rows) + 1
            rows.append(row)
            add(spec.choices, row.id)

    add(records, None)
    return KeywordTree.from_rows(rows, (len(rows), len(rows)))


def _record(node: KeywordNode) -> dict[str, Any]:
    data: dict[str, Any] = {"words": ", ".join(node.words), "kind": node.kind.value}
    optional = {
        "answer": node.answer,
        "algorithm": node.algorithm,
        "title": node.title,
        "confirm": node.confirm,
        "target": node.target,
    }
    data.update((key, value) for key, value in optional.items() if value)
    if node.children:
        data["choices"] = [_record(child) for child in node.children]
    if node.deleted:
        data["deleted"] = True
    return data


class _Dumper(yaml.SafeDumper):
    """Writes multi-line texts as ``|`` blocks, the way a designer would in git."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _text)


def export_yaml(session: Session, bot_id: int) -> str:
    """The bot's keywords as a keyword file (deleted records included) that loads back to the same tree."""
    records = [_record(node) for node in load_tree(session, bot_id).roots]
    return yaml.dump({"keywords": records}, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1000)


def render_tree(tree: KeywordTree) -> str:
    """The tree as ``keywords tree`` prints it: indented, each record's kind, deleted ones marked."""
    return "\n".join(_lines(tree.roots, 0))


def _lines(nodes: Iterable[KeywordNode], depth: int) -> Iterator[str]:
    for node in nodes:
        mark = "  [помечено на удаление]" if node.deleted else ""
        yield f"{'  ' * depth}{', '.join(node.words)} — {_describe(node)}{mark}"
        yield from _lines(node.children, depth + 1)


def _describe(node: KeywordNode) -> str:
    kind = KIND_NAMES[node.kind]
    if node.kind is KeywordKind.TEXT:
        answer = " ".join(node.answer.split())
        return f"{kind}: {answer[:60] + '…' if len(answer) > 60 else answer}"
    if node.kind is KeywordKind.ALGORITHM:
        return f"{kind} «{node.algorithm}»"
    if node.kind is KeywordKind.KEYWORD:
        return f"{kind} → «{node.target}»"
    extras = [f"варианты из алгоритма «{node.algorithm}»"] if node.algorithm else []
    extras += [f"«{node.title}»"] if node.title else []
    extras += ["с подтверждением"] if node.confirm else []
    return f"{kind} ({', '.join(extras)})" if extras else kind

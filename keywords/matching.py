"""Matching a message to a keyword: the normalisation rule and the immutable, indexed tree the engine walks.

«При проверке сообщения не учитываются регистр и пробелы»: :func:`normalise` casefolds and removes every
whitespace character, so «А1», «а 1» and « А 1 » are one word. A :class:`KeywordTree` is built once per load
of a bot's rows; its dict indexes make every lookup O(1). Records marked deleted, and everything under them,
are kept for display (:attr:`KeywordTree.roots`) but never matched.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from keywords.models import Keyword, KeywordKind

Revision = tuple[int, int]  # (number of the bot's rows, their greatest id): changes with every reload
EMPTY_REVISION: Revision = (0, 0)
MAX_ALIAS_DEPTH = 20  # how many «Ключевое слово» jumps one message may take


def normalise(text: str) -> str:
    """``text`` as it is matched: casefolded, with all whitespace removed («а 1» → «а1»)."""
    return "".join(text.casefold().split())


def split_words(words: str) -> tuple[str, ...]:
    """The words of a record's comma-separated keyword field, stripped, empty pieces dropped."""
    return tuple(word.strip() for word in words.split(",") if word.strip())


@dataclass(frozen=True, eq=False)
class KeywordNode:
    """One record of the tree; ``children`` holds all of them, ``options`` only the live ones by normalised word."""

    id: int
    words: tuple[str, ...]
    kind: KeywordKind
    answer: str = ""
    algorithm: str | None = None
    title: str = ""
    confirm: bool = False
    target: str | None = None
    deleted: bool = False
    children: tuple[KeywordNode, ...] = ()
    options: Mapping[str, KeywordNode] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def label(self) -> str:
        """The record's first word: its button label and its name in the choice history."""
        return self.words[0] if self.words else ""

    @property
    def dynamic(self) -> bool:
        """A choice whose options an algorithm lists (its one live child handles the pick)."""
        return self.kind is KeywordKind.CHOICE and self.algorithm is not None

    @property
    def live_children(self) -> tuple[KeywordNode, ...]:
        """The children not marked deleted, in order."""
        return tuple(child for child in self.children if not child.deleted)


def _index(nodes: Iterable[KeywordNode]) -> Mapping[str, KeywordNode]:
    index: dict[str, KeywordNode] = {}
    for node in nodes:
        if node.deleted:
            continue
        for word in node.words:
            index.setdefault(normalise(word), node)  # the file check refuses duplicates; first one wins otherwise
    return MappingProxyType(index)


def _node(row: Keyword, children_of: Mapping[int | None, list[Keyword]]) -> KeywordNode:
    assert row.id is not None, "a stored keyword row has an id"
    children = tuple(_node(child, children_of) for child in children_of.get(row.id, []))
    return KeywordNode(
        id=row.id,
        words=split_words(row.words),
        kind=KeywordKind(row.kind),
        answer=row.answer,
        algorithm=row.algorithm,
        title=row.choice_title,
        confirm=row.confirm,
        target=row.target,
        deleted=row.deleted,
        children=children,
        options=_index(children),
    )


class KeywordTree:
    """A bot's keywords, immutable and indexed: top-level word → record, id → live record."""

    def __init__(self, roots: Iterable[KeywordNode], revision: Revision = EMPTY_REVISION) -> None:
        self.roots: tuple[KeywordNode, ...] = tuple(roots)
        self.revision: Revision = revision
        self._top = _index(self.roots)
        live: dict[int, KeywordNode] = {}
        stack = [node for node in self.roots if not node.deleted]
        while stack:
            node = stack.pop()
            live[node.id] = node
            stack.extend(node.live_children)
        self._live: Mapping[int, KeywordNode] = MappingProxyType(live)

    @classmethod
    def from_rows(cls, rows: Iterable[Keyword], revision: Revision = EMPTY_REVISION) -> KeywordTree:
        """The tree of a bot's stored rows (any order; siblings are ordered by ``position``, then id)."""
        children_of: dict[int | None, list[Keyword]] = defaultdict(list)
        for row in sorted(rows, key=lambda r: (r.position, r.id or 0)):
            children_of[row.parent_id].append(row)
        return cls((_node(row, children_of) for row in children_of.get(None, [])), revision)

    def top(self, text: str) -> KeywordNode | None:
        """The live top-level record ``text`` names (normalised), or None."""
        return self._top.get(normalise(text))

    def node(self, node_id: int) -> KeywordNode | None:
        """The live record with ``node_id`` (None when deleted, under a deleted one, or unknown)."""
        return self._live.get(node_id)

    def __len__(self) -> int:
        """How many live records the tree holds."""
        return len(self._live)

"""Telegram HTML helpers: splitting long texts into messages of at most 4096 visible characters without
breaking tags, and turning HTML into plain text for the fallback send."""

from __future__ import annotations

import html
from html.parser import HTMLParser

TELEGRAM_LIMIT = 4096


class _Tokens(HTMLParser):
    """Collects ('text', str) / ('start', tag, raw) / ('end', tag) tokens of a Telegram HTML text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tokens: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tokens.append(("start", tag, self.get_starttag_text() or f"<{tag}>"))

    def handle_endtag(self, tag: str) -> None:
        self.tokens.append(("end", tag, f"</{tag}>"))

    def handle_data(self, data: str) -> None:
        self.tokens.append(("text", "", data))


def plain_text(markup: str) -> str:
    """The visible text of ``markup`` (tags dropped, entities resolved)."""
    parser = _Tokens()
    parser.feed(markup)
    parser.close()
    return "".join(value for kind, _tag, value in parser.tokens if kind == "text")


def split_html(markup: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """``markup`` cut into pieces of at most ``limit`` visible characters, preferring line breaks; tags open at
    a cut are closed at its end and reopened in the next piece."""
    if len(plain_text(markup)) <= limit:
        return [markup]
    parser = _Tokens()
    parser.feed(markup)
    parser.close()
    pieces: list[str] = []
    current: list[str] = []
    open_tags: list[tuple[str, str]] = []
    visible = 0

    def cut() -> None:
        nonlocal current, visible
        pieces.append("".join(current) + "".join(f"</{tag}>" for tag, _raw in reversed(open_tags)))
        current = [raw for _tag, raw in open_tags]
        visible = 0

    for kind, tag, value in parser.tokens:
        if kind == "start":
            open_tags.append((tag, value))
            current.append(value)
        elif kind == "end":
            if open_tags and open_tags[-1][0] == tag:
                open_tags.pop()
            current.append(value)
        else:
            for chunk in _chunks(value, limit):
                if visible + len(chunk) > limit:
                    cut()
                current.append(html.escape(chunk, quote=False))
                visible += len(chunk)
    if visible or not pieces:
        pieces.append("".join(current))
    return [piece for piece in pieces if plain_text(piece).strip()]


def _chunks(text: str, limit: int) -> list[str]:
    """Lines of ``text`` (keeping their breaks), with any line longer than ``limit`` cut hard."""
    chunks: list[str] = []
    for line in text.splitlines(keepends=True):
        chunks.extend(line[start : start + limit] for start in range(0, len(line), limit))
    return chunks

"""Telegram's HTML parse mode: a port of TDLib's parser, with the same error texts and byte offsets.

``parse_html`` turns ``<b>Hi</b> &amp; bye`` into the plain text ``Hi & bye`` and Bot API ``MessageEntity``
dicts (offsets and lengths in UTF-16 code units), or raises ``EntityParseError`` with the message Telegram puts
after ``Bad Request: can't parse entities:``.
"""

from __future__ import annotations

import re
from typing import Any

JSONDict = dict[str, Any]

ALLOWED_TAGS = frozenset(
    ("a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler", "tg-emoji", "span", "pre", "code",
     "blockquote")
)  # fmt: skip
_SIMPLE_TYPES = {
    tag: kind
    for kind, tags in {"bold": "b strong", "italic": "i em", "underline": "u ins", "strikethrough": "s strike del",
                       "spoiler": "tg-spoiler span"}.items()
    for tag in tags.split()
}  # fmt: skip
# TDLib's order of entities with the same offset and length (lower first); other types rank 50
_PRIORITY = {"blockquote": 0, "expandable_blockquote": 0, "pre": 11, "code": 20, "text_link": 49, "bold": 90,
             "italic": 91, "underline": 92, "strikethrough": 93, "spoiler": 94, "custom_emoji": 99}  # fmt: skip
_SPACES = b" \t\r\n\v\0"
_NAMED = {b"lt": "<", b"gt": ">", b"amp": "&", b"quot": '"'}
_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")


class EntityParseError(ValueError):
    """HTML Telegram refuses; ``str(error)`` is the text after ``can't parse entities:``."""


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit of Bot API entity offsets."""
    return len(text.encode("utf-16-le")) // 2


class _Reader:
    """Byte access with TDLib's convention that reading past the end gives a NUL byte."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __getitem__(self, index: int) -> int:
        return self.data[index] if index < len(self.data) else 0

    def decode_entity(self, pos: int) -> tuple[str, int] | None:
        """Decode ``&...;`` at ``pos``: the character and the position after it, or None when it is not one."""
        end = pos + 1
        if self[end] == ord("#"):
            end += 1
            base, digits = (16, b"0123456789abcdefABCDEF") if self[end] == ord("x") else (10, b"0123456789")
            end += base == 16
            value = 0
            while self[end] and self[end] in digits:
                value = value * base + int(chr(self[end]), base)
                end += 1
                if value >= 0x10FFFF:
                    return None
            if value == 0 or end - pos >= 10 or 0xD800 <= value <= 0xDFFF:
                return None
            char = chr(value)
        else:
            while chr(self[end]).isascii() and chr(self[end]).isalpha():
                end += 1
            named = _NAMED.get(self.data[pos + 1 : end])
            if named is None:
                return None
            char = named
        return char, end + 1 if self[end] == ord(";") else end


class _Builder:
    """The plain text being produced and its length in UTF-16 code units."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.utf16 = 0

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.utf16 += utf16_len(text)

    def text(self) -> str:
        return "".join(self.parts)


def _parse_start_tag(r: _Reader, i: int, begin: int) -> tuple[str, str, int]:
    """Parse ``<tag attr="v">`` from ``i`` (just after ``<``): the tag name, its argument and the index of ``>``."""
    while r[i] not in _SPACES and r[i] != ord(">"):
        i += 1
    if r[i] == 0:
        raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
    tag = r.data[begin + 1 : i].decode("utf-8", "replace").lower()
    if tag not in ALLOWED_TAGS:
        raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')
    argument = ""
    while r[i] != ord(">"):
        while r[i] and r[i] in _SPACES:
            i += 1
        if r[i] == ord(">"):
            break
        name_start = i
        while r[i] not in _SPACES and r[i] not in b"=>":
            i += 1
        name = r.data[name_start:i].decode("utf-8", "replace")
        if not name:
            raise EntityParseError(f'Empty attribute name in the tag "{tag}" at byte offset {begin}')
        while r[i] and r[i] in _SPACES:
            i += 1
        if r[i] != ord("=") and tag == "blockquote" and name == "expandable":
            argument = "1"  # the one attribute without a value
            continue
        if r[i] != ord("="):
            raise EntityParseError(
                f'Expected equal sign in declaration of an attribute of the tag "{tag}" at byte offset {begin}'
            )
        i += 1
        while r[i] and r[i] in _SPACES:
            i += 1
        if r[i] == 0:
            raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
        value, i = _parse_attribute_value(r, i)
        if r[i] == 0:
            raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
        if (tag == "a" and name == "href") or (tag == "tg-emoji" and name == "emoji-id"):
            argument = value
        elif tag == "code" and name == "class" and value.startswith("language-"):
            argument = value[len("language-") :]
        elif tag == "span" and name == "class" and value.startswith("tg-"):
            argument = value[len("tg-") :]
        elif tag == "blockquote" and name == "expandable":
            argument = "1"
    if tag == "span" and argument != "spoiler":
        raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
    return tag, argument, i


def _parse_attribute_value(r: _Reader, i: int) -> tuple[str, int]:
    """An attribute value at ``i``: a name token or a quoted string with HTML entities."""
    if r[i] not in (ord("'"), ord('"')):
        start = i
        while r[i] and ((chr(r[i]).isascii() and chr(r[i]).isalnum()) or r[i] in b".-"):
            i += 1
        if r[i] not in _SPACES and r[i] != ord(">"):
            raise EntityParseError(f"Unexpected end of name token at byte offset {start}")
        return r.data[start:i].decode("utf-8", "replace").lower(), i
    quote = r[i]
    i += 1
    value = bytearray()
    while r[i] != quote and r[i] != 0:
        if r[i] == ord("&") and (decoded := r.decode_entity(i)) is not None:
            value += decoded[0].encode()
            i = decoded[1]
            continue
        value.append(r[i])
        i += 1
    if r[i] == quote:
        i += 1
    return value.decode("utf-8", "replace"), i


def _entity(tag: str, argument: str, offset: int, length: int, text: str, entities: list[JSONDict]) -> None:
    """Append the entity a closed tag makes (links with a bad URL make none, as in Telegram)."""
    entity: JSONDict = {"offset": offset, "length": length}
    if tag in _SIMPLE_TYPES:
        entity["type"] = _SIMPLE_TYPES[tag]
    elif tag == "a":
        url = argument or text
        if "://" not in url and re.match(r"^[\w.-]+\.[a-z]{2,}(/|$)", url, re.IGNORECASE):
            url = "http://" + url
        if not re.match(r"^(https?|tg|ton)://\S+$", url, re.IGNORECASE):
            return
        entity.update(type="text_link", url=url)
    elif tag == "tg-emoji":
        if not argument.isdigit() or int(argument) == 0:
            raise EntityParseError("Invalid custom emoji identifier specified")
        entity.update(type="custom_emoji", custom_emoji_id=argument)
    elif tag == "blockquote":
        entity["type"] = "expandable_blockquote" if argument else "blockquote"
    elif tag == "code":
        last = entities[-1] if entities else None
        entity.update(type="code")
        if argument and last and last["type"] == "pre" and (last["offset"], last["length"]) == (offset, length):
            last["language"] = argument
            return
        if argument:
            entity["language"] = argument  # kept only until an enclosing <pre> takes it
    elif tag == "pre":
        last = entities[-1] if entities else None
        if last and last["type"] == "code" and (last["offset"], last["length"]) == (offset, length):
            last["type"] = "pre"
            return
        entity["type"] = "pre"
    entities.append(entity)


def parse_html(source: str) -> tuple[str, list[JSONDict]]:
    """Parse Telegram HTML: the plain text and its entities; raise ``EntityParseError`` like Telegram."""
    r = _Reader(source.encode("utf-8"))
    out = _Builder()
    stack: list[tuple[str, str, int, int]] = []  # tag, argument, utf-16 offset, index into out.parts
    entities: list[JSONDict] = []
    i = 0
    n = len(r.data)
    while i < n:
        c = r[i]
        if c == ord("&") and (decoded := r.decode_entity(i)) is not None:
            out.add(decoded[0])
            i = decoded[1]
            continue
        if c != ord("<"):
            end = i + 1
            while end < n and r[end] not in b"<&":
                end += 1
            out.add(r.data[i:end].decode("utf-8", "replace"))
            i = end
            continue
        begin = i
        i += 1
        if r[i] != ord("/"):
            tag, argument, i = _parse_start_tag(r, i, begin)
            stack.append((tag, argument, out.utf16, len(out.parts)))
        else:
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {begin}")
            while r[i] not in _SPACES and r[i] != ord(">"):
                i += 1
            end_name = r.data[begin + 2 : i].decode("utf-8", "replace")
            while r[i] and r[i] in _SPACES:
                i += 1
            if r[i] != ord(">"):
                raise EntityParseError(f"Unclosed end tag at byte offset {begin}")
            tag, argument, offset, part = stack.pop()
            if end_name and end_name != tag:
                raise EntityParseError(
                    f'Unmatched end tag at byte offset {begin}, expected "</{tag}>", found "</{end_name}>"'
                )
            if out.utf16 > offset:
                inner = "".join(out.parts[part:])
                _entity(tag, argument, offset, out.utf16 - offset, inner, entities)
        i += 1
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    return out.text(), sorted(entities, key=_order)


def _order(entity: JSONDict) -> tuple[int, int, int]:
    """Telegram's entity order: by offset, longer first, then by type priority."""
    return entity["offset"], -entity["length"], _PRIORITY.get(entity["type"], 50)


def strip_text(text: str, entities: list[JSONDict]) -> tuple[str, list[JSONDict]]:
    """Trim surrounding whitespace as Telegram does, moving and clipping the entities to match."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    shift = utf16_len(text[: len(text) - len(text.lstrip())])
    limit = utf16_len(stripped)
    result: list[JSONDict] = []
    for entity in entities:
        start = max(0, entity["offset"] - shift)
        end = min(limit, entity["offset"] + entity["length"] - shift)
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    return stripped, sorted(result, key=_order)


def command_entities(text: str) -> list[JSONDict]:
    """A ``bot_command`` entity for a message starting with ``/command`` (what Telegram clients send)."""
    match = _COMMAND.match(text)
    if not match:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group(0))}]

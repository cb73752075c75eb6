"""Reading designers' YAML files fast, with line numbers only when an error needs them.

A file is measured before it is built: its nesting, and its size with every alias counted as the node it repeats,
are bounded, so neither a 5,000-deep list nor a «billion laughs» of aliases reaches the recursive code that reads
documents (PyYAML's composer, pydantic, the checks of scenarios and keywords). Every problem — a bad character,
an impossible date, a number too long to read — is a :class:`yaml.MarkedYAMLError` that knows its line.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError

from processes.files import MAX_FILE_BYTES

FastLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML was built with it (about ten times faster), else the pure-Python one."""

MAX_NESTING = 64
"""The deepest nesting of lists and mappings (a keyword record nested in choices takes two levels a step)."""
MAX_NODES = 1_000_000
"""The most values a document may hold, each alias counted as all the values it repeats."""


class YamlLimitError(yaml.MarkedYAMLError):
    """A document refused before it was read: too deep, too large, or holding a value that cannot be read."""

    def __init__(self, problem: str, mark: Any = None) -> None:
        super().__init__(problem=problem, problem_mark=mark)


class _BoundedLoader(FastLoader):  # type: ignore[valid-type,misc]
    """The fast loader whose values that Python cannot build (``2021-13-01``, a 5,000-digit number) are marked
    errors naming their line instead of a bare ValueError."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as error:
            shown = str(node.value)[:40] if isinstance(node, yaml.ScalarNode) else node.tag
            raise ConstructorError(
                None, None, f"значение «{shown}» не читается ({_why(node)}); возьмите его в кавычки", node.start_mark
            ) from error


def _why(node: yaml.Node) -> str:
    tag = node.tag.rsplit(":", 1)[-1]
    return {"timestamp": "такой даты нет", "int": "слишком длинное число", "float": "не число"}.get(tag, tag)


def load_yaml(text: str) -> Any:
    """The data of YAML ``text`` (safe tags only); any problem is :class:`yaml.MarkedYAMLError` with its line."""
    try:
        check_shape(text)
        return yaml.load(text, Loader=_BoundedLoader)
    except yaml.MarkedYAMLError as error:
        if error.problem == "exceeded maximum nesting depth":  # libyaml's own limit, met first in a flow list
            raise YamlLimitError(f"вложенность глубже {MAX_NESTING} уровней", error.problem_mark) from None
        raise
    except yaml.reader.ReaderError as error:  # a control character: the reader knows the position, not the line
        mark = yaml.Mark("", error.position, text.count("\n", 0, error.position), 0, None, 0)
        problem = f"недопустимый символ #x{error.character:04x}: управляющие символы запрещены"
        raise YamlLimitError(problem, mark) from None


def check_shape(text: str) -> None:
    """Raises :class:`YamlLimitError` when ``text`` is nested deeper than :data:`MAX_NESTING` or holds more than
    :data:`MAX_NODES` values; reads only the event stream, which never recurses."""
    if len(text) > MAX_FILE_BYTES:
        raise YamlLimitError(f"документ больше {MAX_FILE_BYTES // 1024 // 1024} МБ")
    nodes = 0
    open_nodes: list[tuple[str | None, int]] = []  # (anchor, count of nodes before it) of each open collection
    sizes: dict[str, int] = {}  # how many nodes each anchor stands for
    for event in yaml.parse(text, Loader=FastLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            open_nodes.append((event.anchor, nodes))
            nodes += 1
            if len(open_nodes) > MAX_NESTING:
                raise YamlLimitError(f"вложенность глубже {MAX_NESTING} уровней", event.start_mark)
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, before = open_nodes.pop()
            if anchor is not None:
                sizes[anchor] = nodes - before
        elif isinstance(event, yaml.ScalarEvent):
            nodes += 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor not in sizes:  # a collection that holds a reference to itself never ends
                raise YamlLimitError(f"ссылка *{event.anchor} на ещё не законченное значение", event.start_mark)
            nodes += sizes[event.anchor]
        if nodes > MAX_NODES:
            limit = f"{MAX_NODES:_}".replace("_", " ")
            raise YamlLimitError(f"больше {limit} значений (с повторами по ссылкам *)", event.start_mark)


def compose_yaml(text: str) -> yaml.Node | None:
    """The node tree of ``text`` (it knows each value's line), for pointing an error at its line."""
    return yaml.compose(text, Loader=yaml.SafeLoader)


def child_node(node: yaml.Node | None, part: Any) -> yaml.Node | None:
    """The value node under mapping key ``part`` or at sequence index ``part`` of ``node``, if there is one."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == str(part):
                return value  # type: ignore[no-any-return]
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return node.value[part]  # type: ignore[no-any-return]
    return None

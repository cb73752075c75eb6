"""Reading designers' YAML files fast, with line numbers only when an error needs them."""

from __future__ import annotations

from typing import Any

import yaml

FastLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML was built with it (about ten times faster), else the pure-Python one."""


def load_yaml(text: str) -> Any:
    """The data of YAML ``text`` (safe tags only); a syntax error is :class:`yaml.MarkedYAMLError` with its line."""
    return yaml.load(text, Loader=FastLoader)


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

"""The run side's guards: the builtins and ``_*_`` hooks RestrictedPython-compiled code calls, as the worker
hands them to an algorithm.

Attribute access refuses ``_`` names, frame/generator/traceback internals, ``str.format`` and modules outside the
allow-list (``statistics.sys`` would otherwise lead to ``os``); ``import`` gives only allow-listed modules.
"""

from __future__ import annotations

import importlib
import operator
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safe_builtins,
    safer_getattr_raise,
)
from RestrictedPython.PrintCollector import PrintCollector
from RestrictedPython.Utilities import utility_builtins

ALLOWED_MODULES = (
    "collections",
    "datetime",
    "decimal",
    "functools",
    "itertools",
    "json",
    "math",
    "random",
    "re",
    "statistics",
    "string",
    "time",
)

_INPLACE: Mapping[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "**=": operator.ipow,
    "<<=": operator.ilshift,
    ">>=": operator.irshift,
    "&=": operator.iand,
    "|=": operator.ior,
    "^=": operator.ixor,
}


# Imported lazily by the standard library (non-ASCII names, strptime, common encodings); loaded before the lock-down.
_LAZY_MODULES = (
    "unicodedata",
    "_strptime",
    "encodings.idna",
    "encodings.cp1251",
    "encodings.koi8_r",
    "encodings.latin_1",
)

_INTERNAL_MODULES = ("_strptime",)


def preload_modules() -> None:
    """Imports the allow-listed modules (and what they load lazily) before the worker's limits are set."""
    for name in (*ALLOWED_MODULES, *_LAZY_MODULES):
        importlib.import_module(name)


def guarded_import(
    name: str,
    globals: Mapping[str, Any] | None = None,
    locals: Mapping[str, Any] | None = None,
    fromlist: tuple[str, ...] | list[str] | None = (),
    level: int = 0,
) -> ModuleType:
    """``import`` inside an algorithm: only the allow-listed modules, nothing relative, nothing nested.

    ``_strptime`` passes too: ``datetime.strptime`` imports it from C through this hook (an algorithm's own
    ``import _strptime`` never compiles: the name starts with ``_``).
    """
    if level != 0 or name not in (*ALLOWED_MODULES, *_INTERNAL_MODULES):
        raise ImportError(f"импорт модуля «{name}» запрещён")
    module = importlib.import_module(name)
    for item in fromlist or ():
        guarded_getattr(module, item)
    return module


def guarded_getattr(obj: Any, name: str, *default: Any) -> Any:
    """``obj.name`` inside an algorithm: RestrictedPython's safer getattr, and no way out through a module."""
    if not isinstance(name, str):
        raise TypeError("имя атрибута должно быть строкой")
    try:
        value = safer_getattr_raise(obj, name)  # type: ignore[no-untyped-call]
    except AttributeError:
        if name.startswith("_"):
            raise AttributeError(f"атрибут «{name}» запрещён") from None
        if default:
            return default[0]
        raise
    except NotImplementedError:  # RestrictedPython refuses some names this way (e.g. str.format): same answer
        raise AttributeError(f"атрибут «{name}» запрещён") from None
    if isinstance(value, ModuleType) and value.__name__ not in ALLOWED_MODULES:
        raise AttributeError(f"модуль «{value.__name__}» недоступен")
    return value


def guarded_hasattr(obj: Any, name: str) -> bool:
    """``hasattr`` that answers through the same guard as attribute access."""
    try:
        guarded_getattr(obj, name)
    except (AttributeError, TypeError):
        return False
    return True


def inplace_var(op: str, target: Any, value: Any) -> Any:
    """``x += y`` and friends inside an algorithm."""
    return _INPLACE[op](target, value)


def _getitem(obj: Any, key: Any) -> Any:
    return obj[key]


def algorithm_builtins() -> dict[str, Any]:
    """The builtins an algorithm sees: RestrictedPython's safe set plus the everyday iterables and helpers."""
    names = dict(safe_builtins)
    names.update(utility_builtins)
    names.update(
        {
            "__import__": guarded_import,
            "getattr": guarded_getattr,
            "hasattr": guarded_hasattr,
            "list": list,
            "dict": dict,
            "tuple": tuple,
            "set": set,
            "frozenset": frozenset,
            "range": range,
            "enumerate": enumerate,
            "zip": zip,
            "map": map,
            "filter": filter,
            "sorted": sorted,
            "reversed": reversed,
            "min": min,
            "max": max,
            "sum": sum,
            "all": all,
            "any": any,
            "iter": iter,
            "next": next,
        }
    )
    return names


def algorithm_globals() -> dict[str, Any]:
    """Fresh globals for one run: builtins and the hooks the restricted compiler's output calls."""
    return {
        "__builtins__": algorithm_builtins(),
        "__name__": "algorithm",
        "__metaclass__": type,
        "_getattr_": guarded_getattr,
        "_getitem_": _getitem,
        "_getiter_": iter,
        "_write_": full_write_guard,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_inplacevar_": inplace_var,
        "_print_": PrintCollector,
    }

"""The run side's guards: the builtins and ``_*_`` hooks RestrictedPython-compiled code calls, as the worker
hands them to an algorithm.

Attribute access refuses ``_`` names and a deny-set of internals (frames, generators, tracebacks, code objects,
``format``/``format_map``, ``mro``), after normalising the name as Python normalises identifiers (NFKC), and
never hands out a module, frame or code object. ``import`` gives the curated namespaces of
:mod:`algorithms.namespaces`; writes go only into plain containers and the algorithm's own objects. Every
refusal is a Russian message.
"""

from __future__ import annotations

import operator
import re
import unicodedata
from collections import Counter, OrderedDict, defaultdict, deque
from collections.abc import Callable, Mapping
from types import CodeType, FrameType, ModuleType, TracebackType
from typing import Any

from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence, safe_builtins
from RestrictedPython.PrintCollector import PrintCollector

from algorithms.namespaces import ALLOWED_MODULES, Importer, Namespace, preload_modules

__all__ = ["ALLOWED_MODULES", "algorithm_globals", "check_attribute", "guarded_getattr", "preload_modules"]

# Internals reachable without a leading underscore: frames, generators, coroutines, tracebacks, code objects,
# the format-string walks (``'{0.x.y}'.format``) and the class hierarchy.
DENIED_ATTRIBUTES = frozenset(
    {
        *("format", "format_map", "vformat", "get_field", "get_value", "mro", "cell_contents"),
        *("gi_frame", "gi_code", "gi_yieldfrom", "gi_running", "gi_suspended"),
        *("cr_frame", "cr_code", "cr_await", "cr_origin", "cr_running", "cr_suspended"),
        *("ag_frame", "ag_code", "ag_await", "ag_running"),
        *("f_globals", "f_locals", "f_back", "f_builtins", "f_code", "f_trace", "f_generator", "f_lasti"),
        *("tb_frame", "tb_next", "tb_lasti", "tb_lineno"),
        *("func_globals", "func_code", "func_closure", "func_defaults", "func_dict", "im_func", "im_self"),
    }
)
_DENIED_PREFIX = re.compile(r"^(gi|cr|ag|f|tb|co|func|im)_")
_HIDDEN_VALUES = (ModuleType, FrameType, CodeType, TracebackType)

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

ALGORITHM_MODULE = "algorithm"  # the ``__name__`` an algorithm runs under: its classes' ``__module__``
# Containers an algorithm may write items into (``d[k] = v``, ``del d[k]``); attributes are never written.
_WRITABLE = frozenset({dict, list, Counter, OrderedDict, defaultdict, deque})


def attribute_refusal(name: str) -> str | None:
    """Why an algorithm may not use the attribute ``name`` (already NFKC-normalised), or None when it may."""
    if name.startswith("_"):
        return f"атрибут «{name}» запрещён (имена на «_» служебные)"
    if name in DENIED_ATTRIBUTES or _DENIED_PREFIX.match(name):
        return f"атрибут «{name}» запрещён"
    return None


def check_attribute(name: Any) -> str:
    """``name`` normalised as Python normalises identifiers (NFKC); AttributeError (Russian) when refused."""
    if not isinstance(name, str):
        raise TypeError("имя атрибута должно быть строкой")
    text = str.__str__(name)  # a plain copy: a str subclass's own startswith/__eq__ must not answer the checks
    normal = text if text.isascii() else unicodedata.normalize("NFKC", text)
    refusal = attribute_refusal(normal)
    if refusal is not None:
        raise AttributeError(refusal)
    return normal


def guarded_getattr(obj: Any, name: Any, *default: Any) -> Any:
    """``obj.name`` and ``getattr`` inside an algorithm: the name checked, no module/frame/code handed out."""
    normal = check_attribute(name)
    try:
        value = getattr(obj, normal)
    except AttributeError as error:
        if default:
            return default[0]
        if isinstance(obj, Namespace):
            raise AttributeError(str(error)) from None
        raise AttributeError(f"у значения типа {type(obj).__name__} нет атрибута «{normal}»") from None
    if isinstance(value, _HIDDEN_VALUES):
        raise AttributeError(f"атрибут «{normal}» недоступен")
    return value


def guarded_hasattr(obj: Any, name: Any) -> bool:
    """``hasattr`` that answers through the same guard as attribute access."""
    try:
        guarded_getattr(obj, name)
    except (AttributeError, TypeError):
        return False
    return True


class _ReadOnly:
    """What ``_write_`` gives for anything but a plain container: every write refused in Russian."""

    __slots__ = ("_type",)

    def __init__(self, obj: Any) -> None:
        object.__setattr__(self, "_type", type(obj).__name__)

    def _refuse(self, what: str) -> TypeError:
        return TypeError(f"{what} значения типа {object.__getattribute__(self, '_type')} менять нельзя")

    def __setattr__(self, name: str, value: Any) -> None:
        raise self._refuse("атрибуты")

    def __delattr__(self, name: str) -> None:
        raise self._refuse("атрибуты")

    def __setitem__(self, key: Any, value: Any) -> None:
        raise self._refuse("элементы")

    def __delitem__(self, key: Any) -> None:
        raise self._refuse("элементы")


def write_guard(obj: Any) -> Any:
    """``_write_``: plain containers and instances of the algorithm's own classes as they are (names are checked
    apart); a namespace refuses itself; anything else (functions, classes, the library's objects) is read-only."""
    kind = type(obj)
    if kind in _WRITABLE or isinstance(obj, Namespace):
        return obj
    if getattr(kind, "__module__", None) == ALGORITHM_MODULE and not isinstance(obj, type):
        return obj
    return _ReadOnly(obj)


def _setattr(obj: Any, name: Any, value: Any) -> None:
    setattr(write_guard(obj), check_attribute(name), value)


def _delattr(obj: Any, name: Any) -> None:
    delattr(write_guard(obj), check_attribute(name))


def inplace_var(op: str, target: Any, value: Any) -> Any:
    """``x += y`` and friends inside an algorithm."""
    return _INPLACE[op](target, value)


def _getitem(obj: Any, key: Any) -> Any:
    return obj[key]


_DROPPED_BUILTINS = ("_getattr_", "setattr", "delattr")


def algorithm_builtins() -> dict[str, Any]:
    """The builtins an algorithm sees: RestrictedPython's safe set plus the everyday iterables and helpers.

    RestrictedPython's ``utility_builtins`` are not among them: they hand out the real ``random``, ``string`` and
    ``math`` modules.
    """
    names = {key: value for key, value in safe_builtins.items() if key not in _DROPPED_BUILTINS}
    names.update(
        {
            "__import__": Importer(guarded_getattr),
            "getattr": guarded_getattr,
            "hasattr": guarded_hasattr,
            "setattr": _setattr,
            "delattr": _delattr,
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
        "__name__": ALGORITHM_MODULE,
        "__metaclass__": type,
        "_getattr_": guarded_getattr,
        "_getitem_": _getitem,
        "_getiter_": iter,
        "_write_": write_guard,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_inplacevar_": inplace_var,
        "_print_": PrintCollector,
    }

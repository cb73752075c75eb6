"""The modules an algorithm may import, each as a curated read-only namespace of vetted functions, classes and
constants — never the module object itself.

A whole module hands out gadgets (``functools.update_wrapper`` writes ``__globals__``, ``collections.UserString``
formats with attribute walks, ``random.seed`` changes the generator every run shares, ``statistics.sys`` leads to
``os``), so each namespace lists what it gives by name. ``random`` is a fresh generator of its own for every run;
``decimal`` gives no way to reach or change the shared context. :class:`Importer` is the ``__import__`` an
algorithm's ``import`` statements call.
"""

from __future__ import annotations

import collections
import datetime
import decimal
import functools
import importlib
import itertools
import json
import math
import random
import re
import statistics
import string
import time
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType, ModuleType
from typing import Any


class Namespace:
    """A read-only module look-alike: ``math.sqrt`` reads a vetted member, nothing can be set or deleted."""

    __slots__ = ("_members", "_name")

    def __init__(self, name: str, members: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_members", MappingProxyType(dict(members)))

    def __getattr__(self, name: str) -> Any:
        members: Mapping[str, Any] = object.__getattribute__(self, "_members")
        try:
            return members[name]
        except KeyError:
            module = object.__getattribute__(self, "_name")
            raise AttributeError(f"в модуле «{module}» нет «{name}» (или оно недоступно алгоритмам)") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"модуль «{object.__getattribute__(self, '_name')}» только для чтения")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"модуль «{object.__getattribute__(self, '_name')}» только для чтения")

    def __repr__(self) -> str:
        return f"<модуль {object.__getattribute__(self, '_name')}>"


def members(namespace: Namespace) -> list[str]:
    """The names ``namespace`` gives, sorted (for the documentation and the tests)."""
    return sorted(object.__getattribute__(namespace, "_members"))


def _pick(module: ModuleType, names: Iterable[str]) -> dict[str, Any]:
    return {name: getattr(module, name) for name in names}


def _public(module: ModuleType) -> dict[str, Any]:
    """Every public member of a module whose members are all plain C functions, types and constants."""
    return {
        name: value
        for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)
    }


_RANDOM_METHODS = (
    *("random", "uniform", "randint", "randrange", "choice", "choices", "sample", "shuffle", "getrandbits"),
    *("gauss", "normalvariate", "lognormvariate", "expovariate", "vonmisesvariate", "gammavariate"),
    *("triangular", "betavariate", "paretovariate", "weibullvariate", "seed", "getstate", "setstate"),
)


def _random() -> dict[str, Any]:
    generator = random.Random()  # this run's own: seeding it changes nothing for any other run
    return {"Random": random.Random, **{name: getattr(generator, name) for name in _RANDOM_METHODS}}


_DECIMAL_NAMES = (
    *("Decimal", "Context", "localcontext", "DecimalException", "Clamped", "InvalidOperation", "DivisionByZero"),
    *("Inexact", "Rounded", "Subnormal", "Overflow", "Underflow", "FloatOperation", "DecimalTuple"),
    *("MAX_PREC", "MAX_EMAX", "MIN_EMIN", "MIN_ETINY"),
    *(name for name in dir(decimal) if name.startswith("ROUND_")),
)
_STATISTICS_NAMES = (
    *("mean", "fmean", "geometric_mean", "harmonic_mean", "median", "median_low", "median_high", "median_grouped"),
    *("mode", "multimode", "quantiles", "pstdev", "pvariance", "stdev", "variance", "correlation", "covariance"),
    *("linear_regression", "NormalDist", "StatisticsError"),
)
_TIME_NAMES = (
    *("time", "time_ns", "monotonic", "monotonic_ns", "perf_counter", "perf_counter_ns", "process_time", "sleep"),
    *("strftime", "strptime", "gmtime", "localtime", "mktime", "asctime", "ctime", "struct_time"),
    *("timezone", "altzone", "daylight", "tzname"),
)
_RE_NAMES = (
    *("compile", "search", "match", "fullmatch", "split", "findall", "finditer", "sub", "subn", "escape", "error"),
    *("Pattern", "Match", "A", "ASCII", "I", "IGNORECASE", "M", "MULTILINE", "S", "DOTALL", "X", "VERBOSE"),
    *("U", "UNICODE", "NOFLAG"),
)
_STRING_NAMES = (
    *("ascii_letters", "ascii_lowercase", "ascii_uppercase", "digits", "hexdigits", "octdigits", "punctuation"),
    *("printable", "whitespace", "capwords"),
)

_CURATED: Mapping[str, Callable[[], dict[str, Any]]] = {
    "collections": lambda: _pick(
        collections, ("Counter", "OrderedDict", "defaultdict", "deque", "namedtuple", "ChainMap")
    ),
    "datetime": lambda: _pick(
        datetime, ("date", "datetime", "time", "timedelta", "timezone", "MINYEAR", "MAXYEAR", "UTC")
    ),
    "decimal": lambda: _pick(decimal, _DECIMAL_NAMES),
    "functools": lambda: _pick(functools, ("reduce", "partial", "cmp_to_key", "lru_cache", "cache")),
    "itertools": lambda: _public(itertools),
    "json": lambda: _pick(json, ("dumps", "loads", "JSONDecodeError")),
    "math": lambda: _public(math),
    "random": _random,
    "re": lambda: _pick(re, _RE_NAMES),
    "statistics": lambda: _pick(statistics, _STATISTICS_NAMES),
    "string": lambda: _pick(string, _STRING_NAMES),
    "time": lambda: _pick(time, _TIME_NAMES),
}

ALLOWED_MODULES: tuple[str, ...] = tuple(sorted(_CURATED))


# Imported lazily by the standard library (non-ASCII names, strptime, common encodings); loaded before the lock-down.
_LAZY_MODULES = (
    "unicodedata",
    "_strptime",
    "encodings.idna",
    "encodings.cp1251",
    "encodings.koi8_r",
    "encodings.latin_1",
)
# ``datetime.strptime`` and ``time.strptime`` import this from C through the algorithm's ``__import__``; an
# algorithm's own ``import _strptime`` never compiles (the name starts with ``_``).
_INTERNAL_MODULES = ("_strptime",)


def curated(name: str) -> Namespace:
    """A fresh namespace of the allowed module ``name`` (KeyError for any other name)."""
    return Namespace(name, _CURATED[name]())


def preload_modules() -> None:
    """Imports the allow-listed modules (and what they load lazily) before the worker's limits are set."""
    for name in (*ALLOWED_MODULES, *_LAZY_MODULES):
        importlib.import_module(name)


class Importer:
    """``import`` for one run: the curated namespaces, each built once per run (``random`` is this run's own)."""

    def __init__(self, getattr_guard: Callable[[Any, str], Any]) -> None:
        self._loaded: dict[str, Namespace] = {}
        self._guard = getattr_guard

    def __call__(
        self,
        name: str,
        globals: Mapping[str, Any] | None = None,
        locals: Mapping[str, Any] | None = None,
        fromlist: tuple[str, ...] | list[str] | None = (),
        level: int = 0,
    ) -> Namespace | ModuleType:
        """``import name`` / ``from name import …``: the curated namespace (``_strptime`` for the C code)."""
        if type(name) is not str or type(level) is not int:
            raise ImportError("импорт: имя модуля должно быть строкой")
        if level == 0 and name in _INTERNAL_MODULES:
            return importlib.import_module(name)
        if level != 0 or name not in ALLOWED_MODULES:
            shown = "." * level + (name or "")
            raise ImportError(f"импорт модуля «{shown}» запрещён; доступны: {', '.join(ALLOWED_MODULES)}")
        namespace = self._loaded.get(name)
        if namespace is None:
            namespace = self._loaded[name] = curated(name)
        for item in fromlist or ():
            try:  # the guard checks a plain copy of the name, as attribute access does
                self._guard(namespace, item)
            except AttributeError as error:
                raise ImportError(str(error)) from None
        return namespace

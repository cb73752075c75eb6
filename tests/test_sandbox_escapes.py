"""The catalogue of escape attempts against designers' algorithms: each one run through the real runner and its
worker processes, each refused or contained, each followed by an ordinary algorithm that must still answer.

Families: format and template walks, frames, computed dunders, function wrappers and decorators, metaclasses and
class bodies, reduce/pickle, imports, look-alike (NFKC) names, resource exhaustion, and state left for the next run.
"""

from __future__ import annotations

import os
import random
import re
import types
from collections.abc import Iterator
from typing import Any

import pytest
from RestrictedPython.transformer import INSPECT_ATTRIBUTES

from algorithms.errors import AlgorithmError, AlgorithmFailed, AlgorithmStopped, CodeRefused
from algorithms.guards import attribute_refusal
from algorithms.namespaces import ALLOWED_MODULES, curated, members
from algorithms.runner import AlgorithmRunner, Limits

CANARY = "канарейка-4f1c9e"  # a secret in the service's environment: no algorithm may ever show it
LEAKS = ("<module", "module '", "sys", "environ", "/proc", "uid=", "builtins", "Formatter", CANARY)
CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)
ORDINARY = "_Результат = [6 * 7, api.scenarios()[0], len(api.persons('Петрова'))]"
ORDINARY_ANSWER = [42, "Согласование договора", 1]


class ServiceApi:
    """The host side the runner answers ``api`` calls with: a small fixed directory (the real database api is
    exercised in test_algorithms); it records nothing an attempt could read back."""

    def call(self, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """Answers ``scenarios`` and ``persons``; every other call is refused as the real api refuses."""
        if method == "scenarios":
            return ["Согласование договора"]
        if method == "persons":
            return [{"id": 1, "name": "Петрова Мария Сергеевна"}] if "Петрова" in str(args) else []
        raise AlgorithmError(f"api.{method}: в этом запуске недоступен")


@pytest.fixture(scope="module")
def runner() -> Iterator[AlgorithmRunner]:
    """One worker (so a poisoned one would answer the next run) with short limits, for the whole catalogue."""
    os.environ["SIGNAL_CANARY_SECRET"] = CANARY
    pool = AlgorithmRunner(Limits(timeout_seconds=1.0, memory_mb=256, api_calls=20), workers=1)
    yield pool
    pool.close()
    del os.environ["SIGNAL_CANARY_SECRET"]


def _run(runner: AlgorithmRunner, code: str) -> Any:
    return runner.run(code, {"id": 1, "name": "Петрова Мария Сергеевна"}, ["Вариант"], ServiceApi())


REFUSED = "refused"  # CodeRefused, or AlgorithmFailed whose reason is the guards' Russian line
ABSENT = "absent"  # the thing does not exist for an algorithm (NameError and the like): AlgorithmFailed
LIMIT = "limit"  # a limit holds: AlgorithmStopped, or AlgorithmFailed with RecursionError/MemoryError
HARMLESS = "harmless"  # it runs, and what it answers shows nothing of the service

ATTEMPTS: list[tuple[str, str, str]] = [
    # format and template walks
    ("format", "_Результат = '{0.__class__}'.format(1)", REFUSED),
    ("format", "_Результат = str.format('{0.persons.__self__}', api)", REFUSED),
    ("format", "_Результат = getattr('{0.persons}', 'format')(api)", REFUSED),
    ("format", "_Результат = getattr('{x.persons}', 'format_map')({'x': api})", REFUSED),
    ("format", "class S(str):\n    pass\n_Результат = getattr(S('{0.persons}'), 'format')(api)", REFUSED),
    ("format", "import collections\n_Результат = collections.UserString('{0.persons}').format(api)", REFUSED),
    ("format", "from collections import UserString", REFUSED),
    ("format", "import string\n_Результат = string.Formatter().vformat('{0.persons}', [api], {})", REFUSED),
    ("format", "import string\n_Результат = string.Template('$x').substitute(x=api)", REFUSED),
    ("format", "_Результат = format(api, '')", ABSENT),
    ("format", "_Результат = '%(a)s' % {'a': api.persons}", HARMLESS),
    ("format", "_Результат = f'{api.persons.__func__}'", REFUSED),
    # frames: generators, coroutines, tracebacks
    ("frames", "def g():\n    yield 1\n_Результат = g().gi_frame", REFUSED),
    ("frames", "g = (x for x in [1])\n_Результат = getattr(g, 'gi_frame')", REFUSED),
    ("frames", "g = (x for x in [1])\n_Результат = getattr(g, 'gi_code')", REFUSED),
    ("frames", "async def c():\n    pass", REFUSED),
    ("frames", "try:\n    1 / 0\nexcept Exception as e:\n    _Результат = e.__traceback__", REFUSED),
    ("frames", "try:\n    1 / 0\nexcept Exception as e:\n    _Результат = getattr(e, '__traceback__')", REFUSED),
    ("frames", "import sys\n_Результат = sys.exc_info()", REFUSED),
    ("frames", "f = lambda: 1\n_Результат = getattr(f, 'f_globals', None) or getattr(f, 'func_globals')", REFUSED),
    ("frames", "g = (x for x in [1])\nf = getattr(g, 'gi_frame')\n_Результат = f.f_back.f_globals", REFUSED),
    # computed dunders
    ("dunders", "_Результат = getattr(1, '_' + '_class__')", REFUSED),
    ("dunders", "_Результат = getattr(api, ''.join(['_', 'channel']))", REFUSED),
    ("dunders", "_Результат = getattr(api.persons, '__self__')", REFUSED),
    ("dunders", "setattr(api, '_channel', None)", REFUSED),
    ("dunders", "_Результат = vars(api)", ABSENT),
    ("dunders", "_Результат = [dir(), globals(), locals()]", ABSENT),
    ("dunders", "_Результат = ().__class__.__base__.__subclasses__()", REFUSED),
    ("dunders", "_Результат = getattr(str, 'mro')()", REFUSED),
    (
        "dunders",
        "class S(str):\n    def startswith(self, prefix):\n        return False\n"
        "    def isascii(self):\n        return True\n_Результат = str(getattr(1, S('__class__')))",
        REFUSED,
    ),
    (
        "dunders",
        "class S(str):\n    def __eq__(self, other):\n        return True\n_Результат = getattr(1, S('__class__'))",
        REFUSED,
    ),
    ("dunders", "help(api)", ABSENT),
    ("dunders", "breakpoint()", REFUSED),
    ("dunders", "_Результат = compile('1', 'x', 'exec')", ABSENT),
    ("dunders", "_Результат = object.__subclasses__()", REFUSED),
    # function wrappers and decorators
    (
        "wrappers",
        "import functools\ndef w():\n    pass\n"
        "functools.update_wrapper(w, api.persons, assigned=(), updated=('__globals__',))",
        REFUSED,
    ),
    ("wrappers", "import functools\n@functools.wraps(api.persons)\ndef w():\n    pass", REFUSED),
    ("wrappers", "from functools import update_wrapper", REFUSED),
    ("wrappers", "import functools, statistics\nfunctools.wraps(statistics.mean)(lambda: 1)", REFUSED),
    ("wrappers", "import functools\n_Результат = functools.partial(getattr, api)('_channel')", REFUSED),
    ("wrappers", "import functools\n_Результат = functools.reduce(getattr, ['persons', '__self__'], api)", REFUSED),
    ("wrappers", "import functools\n_Результат = functools.lru_cache(api.persons).__wrapped__", REFUSED),
    ("wrappers", "import statistics\n_Результат = statistics.mean.__globals__", REFUSED),
    ("wrappers", "import statistics\n_Результат = getattr(statistics.mean, '__globals__')", REFUSED),
    ("wrappers", "_Результат = list(map(getattr, [api], ['_call']))", REFUSED),
    # metaclasses and class bodies
    ("classes", "class M(type):\n    pass", ABSENT),
    ("classes", "class A(metaclass=len):\n    pass", REFUSED),
    ("classes", "_Результат = type('A', (), {})", ABSENT),
    ("classes", "class A:\n    def __getattr__(self, name):\n        return name", REFUSED),
    ("classes", "class A:\n    def __init_subclass__(cls):\n        pass", REFUSED),
    ("classes", "class A:\n    def __set_name__(self, owner, name):\n        pass", REFUSED),
    ("classes", "class A:\n    def __class_getitem__(cls, item):\n        pass", REFUSED),
    ("classes", "class A:\n    __slots__ = ()", REFUSED),
    ("classes", "class A:\n    def f(self):\n        return super().f()\nA().f()", ABSENT),
    ("classes", "import math\nclass A(math):\n    pass", ABSENT),
    # reduce and pickle
    ("reduce", "_Результат = (1).__reduce_ex__(2)", REFUSED),
    ("reduce", "_Результат = getattr(api, '__reduce__')()", REFUSED),
    ("reduce", "class A:\n    def __reduce__(self):\n        return (len, ())", REFUSED),
    ("reduce", "import pickle", REFUSED),
    ("reduce", "import copyreg", REFUSED),
    # imports
    ("imports", "import os\n_Результат = os.popen('id').read()", REFUSED),
    ("imports", "import sys", REFUSED),
    ("imports", "import importlib", REFUSED),
    ("imports", "import builtins", REFUSED),
    ("imports", "import os.path", REFUSED),
    ("imports", "import collections.abc", REFUSED),
    ("imports", "from . import worker", REFUSED),
    ("imports", "from math import *", REFUSED),
    ("imports", "x = __import__('os')", REFUSED),
    ("imports", "import statistics\n_Результат = statistics.sys.modules", REFUSED),
    ("imports", "import random\n_Результат = getattr(random, '_os')", REFUSED),
    ("imports", "import json\n_Результат = json.decoder", REFUSED),
    ("imports", "import re\n_Результат = re.enum", REFUSED),
    ("imports", "import datetime\n_Результат = datetime.sys", REFUSED),
    ("imports", "import random\n_Результат = random.Random.__init__.__globals__", REFUSED),
    ("imports", "_Результат = open('/proc/self/environ').read()", ABSENT),
    # look-alike names (Python normalises identifiers with NFKC; the guards normalise strings the same way)
    ("look-alike", "_Результат = getattr('{0}', 'ｆormat')(api)", REFUSED),
    ("look-alike", "_Результат = getattr(1, '＿＿class＿＿')", REFUSED),
    ("look-alike", "g = (x for x in [1])\n_Результат = getattr(g, 'ｇｉ_frame')", REFUSED),
    ("look-alike", "_Результат = '{0}'.ｆormat(1)", REFUSED),
    ("look-alike", "x = ＿＿import＿＿('os')", REFUSED),
    ("look-alike", "import ｏs", REFUSED),
    # resource exhaustion: contained by the limits
    ("resources", "_Результат = len('%0999999999d' % 1)", LIMIT),
    ("resources", "_Результат = 10 ** 10 ** 10", LIMIT),
    ("resources", "def f(n):\n    return f(n + 1)\nf(0)", LIMIT),
    ("resources", "while True:\n    pass", LIMIT),
    ("resources", "x = [0] * 10 ** 10", LIMIT),
    ("resources", "x = list(range(10 ** 9))", LIMIT),
    ("resources", "import json\njson.loads('[' * 100000 + ']' * 100000)", LIMIT),
    ("resources", "import time\ntime.sleep(30)", LIMIT),
    ("resources", "import re\n_Результат = bool(re.match('(a+)+$', 'a' * 40 + 'b'))", LIMIT),
    ("resources", "import math\n_Результат = math.factorial(10 ** 8)", LIMIT),
]


@pytest.mark.parametrize(("family", "code", "expected"), ATTEMPTS, ids=[f"{a[0]}-{i}" for i, a in enumerate(ATTEMPTS)])
def test_escape_attempt_is_refused_or_contained(runner: AlgorithmRunner, family: str, code: str, expected: str) -> None:
    try:
        answer = _run(runner, code)
    except CodeRefused as refused:
        assert expected == REFUSED, refused.message
        assert CYRILLIC.search(refused.detail) and not re.search("[A-Za-z]{4,} (is|are) ", refused.detail)
    except AlgorithmStopped as stopped:
        assert expected == LIMIT, stopped.message
    except AlgorithmFailed as failed:
        assert expected in (REFUSED, ABSENT, LIMIT), failed.message
        if expected == REFUSED:
            assert CYRILLIC.search(failed.detail.split(":", 1)[-1]), failed.message
        if expected == LIMIT:
            assert "RecursionError" in failed.detail or "MemoryError" in failed.detail, failed.message
        assert not any(leak in failed.message for leak in (CANARY, "<module", "environ=")), failed.message
    else:
        assert expected == HARMLESS, f"{family}: answered {answer!r}"
        assert not any(leak in str(answer) for leak in LEAKS), answer
    assert _run(runner, ORDINARY) == ORDINARY_ANSWER


# State left for the next run: an attempt (allowed or refused) and a probe whose answer must be the clean one.
STATE: list[tuple[str, str, object]] = [
    ("import random\nrandom.seed(1)", "import random\n_Результат = random.random() != 0.13436424411240122", True),
    (
        "import random\nrandom.setstate(random.Random(1).getstate())",
        "import random\n_Результат = random.random() != 0.13436424411240122",
        True,
    ),
    (
        "import decimal\ndecimal.getcontext().prec = 1",
        "import decimal\n_Результат = str(decimal.Decimal(1) / 3)",
        "0.3333333333333333333333333333",
    ),
    (
        "import decimal\ndecimal.setcontext(decimal.Context(prec=1))",
        "import decimal\n_Результат = str(decimal.Decimal(1) / 3)",
        "0.3333333333333333333333333333",
    ),
    (
        "import decimal\ndecimal.DefaultContext.prec = 1",
        "import decimal\n_Результат = str(decimal.Decimal(2) / 3)",
        "0.6666666666666666666666666667",
    ),
    (
        "import decimal\nwith decimal.localcontext() as c:\n    c.prec = 1",
        "import decimal\n_Результат = str(decimal.Decimal(1) / 3)",
        "0.3333333333333333333333333333",
    ),
    ("import math\nmath.pi = 3", "import math\n_Результат = math.pi", 3.141592653589793),
    ("import math\nsetattr(math, 'floor', len)", "import math\n_Результат = math.floor(2.5)", 2),
    ("import statistics\nstatistics.mean.cache = {}", "import statistics\n_Результат = statistics.mean([1, 3])", 2),
    ("import json\njson.dumps = len", "import json\n_Результат = json.dumps([1])", "[1]"),
    ("to_result = lambda value: 'ПОДМЕНЕНО'", "_Результат = 'настоящий'", "настоящий"),
    ("ApiError.args = ('ПОДМЕНЕНО',)", "_Результат = 'настоящий'", "настоящий"),
    (
        "api.persons = lambda text: ['ПОДМЕНЕНО']",
        "_Результат = api.persons('Петрова')[0]['name']",
        "Петрова Мария Сергеевна",
    ),
    (
        "import collections\ncollections.Counter.most_common = len",
        "import collections\n_Результат = collections.Counter('аab').most_common(1)[0][0]",
        "а",
    ),
    ("import string\nstring.digits = 'x'", "import string\n_Результат = string.digits", "0123456789"),
]


@pytest.mark.parametrize(("attempt", "probe", "clean"), STATE, ids=[f"state-{i}" for i in range(len(STATE))])
def test_nothing_is_left_for_the_next_run(runner: AlgorithmRunner, attempt: str, probe: str, clean: object) -> None:
    try:
        _run(runner, attempt)
    except (CodeRefused, AlgorithmFailed) as refused:
        assert CYRILLIC.search(refused.detail) or "NameError" in refused.detail, refused.message
    assert _run(runner, probe) == clean
    assert _run(runner, ORDINARY) == ORDINARY_ANSWER


def test_the_catalogue_covers_every_family() -> None:
    families = {family for family, _, _ in ATTEMPTS}
    assert families == {
        *("format", "frames", "dunders", "wrappers", "classes", "reduce", "imports", "look-alike", "resources"),
    }
    assert len(ATTEMPTS) + len(STATE) >= 60


GADGETS = {
    "functools": ("update_wrapper", "wraps", "WRAPPER_UPDATES", "singledispatch", "total_ordering"),
    "collections": ("UserString", "UserDict", "UserList", "abc"),
    "string": ("Formatter", "Template"),
    "decimal": ("getcontext", "setcontext", "DefaultContext", "BasicContext", "ExtendedContext"),
    "statistics": ("sys", "random", "math", "fractions"),
    "random": ("_inst", "_os", "SystemRandom"),
    "json": ("decoder", "encoder", "scanner", "JSONEncoder"),
    "re": ("enum", "functools", "copyreg", "purge", "template"),
    "time": ("tzset", "clock_settime"),
    "datetime": ("sys",),
}


def test_curated_namespaces_hand_out_no_gadgets() -> None:
    for name in ALLOWED_MODULES:
        namespace = curated(name)
        for member in members(namespace):
            assert not member.startswith("_"), (name, member)
            assert not isinstance(getattr(namespace, member), types.ModuleType), (name, member)
        for gadget in GADGETS.get(name, ()):
            assert gadget not in members(namespace), (name, gadget)
    first, second = curated("random"), curated("random")
    assert first.seed.__self__ is not second.seed.__self__  # every run has its own generator
    assert first.random.__self__ is not random._inst
    with pytest.raises(AttributeError, match="только для чтения"):
        first.seed = None


def test_every_internal_of_frames_code_generators_and_tracebacks_is_refused_by_name() -> None:
    internals = (types.FrameType, types.CodeType, types.GeneratorType, types.CoroutineType, types.TracebackType)
    harmless = {"clear", "replace", "close", "send", "throw", "aclose", "asend", "athrow"}  # methods, no data
    names = {name for kind in (*internals, types.AsyncGeneratorType, types.CellType) for name in dir(kind)}
    for name in (names | set(INSPECT_ATTRIBUTES)) - harmless:
        assert attribute_refusal(name) is not None, name
    for name in ("format", "format_map", "mro", "gi_frame", "f_globals", "tb_next", "func_globals"):
        assert "запрещён" in str(attribute_refusal(name))

"""The operating-system layer around the algorithm worker: bubblewrap (``bwrap``), as Flatpak uses it.

The worker runs in its own user namespace as uid/gid 65534 with no capabilities, in its own PID, mount, IPC, UTS,
cgroup and network namespaces (no network at all, only a loopback nobody listens on), with an empty environment,
a new session (no terminal to inject into) and a read-only filesystem holding only the Python installation, the
worker's own packages (the ``algorithms`` package, ``processes/errors.py``, RestrictedPython, simpleeval — never
the project directory with its ``.env`` and database), ``/usr`` for the shared libraries, a private ``/tmp``, a
minimal ``/dev`` and a ``/proc`` of its own PID namespace. It dies with the service.

Whether bwrap can start here is found by trying it once (:func:`probe`); where it cannot, the runner refuses
designers' algorithms unless an administrator allowed running them without this layer.
"""

from __future__ import annotations

import base64
import importlib.util
import subprocess
import sys
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import algorithms
import processes.errors
from algorithms.isolation_seccomp import build_filter

SANDBOX_UID = 65534
LIBRARY = "/sandbox/lib"
PROBE_SECONDS = 15.0
INSTALL_HINT = "установите bubblewrap (apt-get install bubblewrap)"
ZYGOTE_BOOT = f"import sys; sys.path.insert(0, {LIBRARY!r}); from algorithms.zygote import main; main(sys.argv[1:])"


class Mode(StrEnum):
    """How designers' algorithms run: inside bwrap, without it (allowed by the administrator), or not at all."""

    ISOLATED = "isolated"
    UNISOLATED = "unisolated"
    REFUSED = "refused"


@dataclass(frozen=True)
class Isolation:
    """The mode in force and, when bwrap could not start, why (one Russian line)."""

    mode: Mode
    bwrap: str
    reason: str = ""
    program: bytes | None = None
    """The seccomp filter each run's process loads (:mod:`algorithms.isolation_seccomp`); None without libseccomp."""


def python_binary() -> str:
    """The real interpreter behind the (virtual environment's) ``sys.executable``."""
    return str(Path(sys.executable).resolve())


def _module_file(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"module {name} is not installed")
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(spec.origin)


def _worker_mounts() -> list[tuple[Path, str]]:
    """What the worker imports besides the standard library, each at its place under :data:`LIBRARY`."""
    package = Path(next(iter(algorithms.__path__)))
    errors = Path(processes.errors.__file__)
    mounts = [
        (package, f"{LIBRARY}/algorithms"),
        (errors.parent / "__init__.py", f"{LIBRARY}/processes/__init__.py"),
        (errors, f"{LIBRARY}/processes/errors.py"),
    ]
    for name in ("RestrictedPython", "simpleeval"):  # pyseccomp stays outside: the host compiles the filter
        found = _module_file(name)
        mounts.append((found, f"{LIBRARY}/{found.name}"))
    return mounts


def sandbox_command(bwrap: str, python_arguments: list[str]) -> list[str]:
    """The bwrap command that starts the interpreter with ``python_arguments`` inside the sandbox.

    The runner passes the worker's entry point; the isolation tests pass their own probes. Nothing reachable from
    an algorithm or the service's API builds or runs this with other arguments.
    """
    python = python_binary()
    prefix = Path(sys.base_prefix).resolve()
    command = [
        bwrap,
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",  # no nested user namespace (that would give capabilities back inside it)
        "--uid",
        str(SANDBOX_UID),
        "--gid",
        str(SANDBOX_UID),
        "--cap-drop",
        "ALL",
        "--die-with-parent",
        "--as-pid-1",  # no bubblewrap process inside (its environment would be the service's)
        "--new-session",
        "--clearenv",
        "--setenv",
        "LANG",
        "C.UTF-8",
        "--ro-bind",
        "/usr",
        "/usr",
    ]
    for link in ("lib", "lib64", "bin"):
        target = Path("/") / link
        if target.is_symlink():
            command += ["--symlink", str(target.readlink()), f"/{link}"]
        elif target.is_dir():
            command += ["--ro-bind", str(target), f"/{link}"]
    if not prefix.is_relative_to("/usr"):
        command += ["--ro-bind", str(prefix), str(prefix)]
    if not Path(python).is_relative_to(prefix) and not Path(python).is_relative_to("/usr"):
        command += ["--ro-bind", python, python]
    if Path("/etc/localtime").exists():
        command += ["--ro-bind", "/etc/localtime", "/etc/localtime"]  # the host's time zone, nothing else of /etc
    for source, place in _worker_mounts():
        command += ["--ro-bind", str(source), place]
    command += ["--tmpfs", "/tmp", "--dev", "/dev", "--proc", "/proc", "--chdir", "/tmp"]
    command += ["--remount-ro", "/dev", "--remount-ro", "/"]  # writable: /tmp only
    return [*command, "--", python, "-I", "-B", *python_arguments]


def zygote_command(bwrap: str | None, memory_mb: int, program: bytes | None, check: bool = False) -> list[str]:
    """The worker's command: inside bwrap, or (``bwrap`` None) as a plain process of the host; with ``check`` the
    template only shows that a run's process can start no other process, and exits."""
    arguments = ["--memory-mb", str(memory_mb)]
    if program is not None:
        arguments += ["--seccomp", base64.b64encode(program).decode()]
    if check:
        arguments.append("--check")
    if bwrap is None:
        return [sys.executable, "-I", "-B", "-m", "algorithms.zygote", *arguments]
    return sandbox_command(bwrap, ["-c", ZYGOTE_BOOT, *arguments])


def _program() -> tuple[bytes | None, str]:
    try:
        return build_filter(), ""
    except (ImportError, OSError, RuntimeError) as error:
        return None, f"фильтр seccomp не собран: нужна libseccomp ({error})"


def probe(bwrap: str) -> str | None:
    """Starts the sandbox once, as the runner will, and checks that a run in it can start no process; None when
    all works, else why not (one Russian line)."""
    program, problem = _program()
    if program is None:
        return problem
    try:
        done = subprocess.run(
            zygote_command(bwrap, 256, program, check=True),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=PROBE_SECONDS,
            env={},
            check=False,
        )
    except FileNotFoundError:
        return f"программа bubblewrap не найдена ({bwrap})"
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bubblewrap не запустился ({error})"
    if done.returncode != 0:
        lines = done.stderr.decode(errors="replace").strip().splitlines()
        return f"bubblewrap не запустился ({lines[-1] if lines else f'код {done.returncode}'})"
    return None


def describe(isolation: Isolation) -> str:
    """The mode in force, Russian, to follow «Алгоритмы: » at the start of the service and in the console."""
    if isolation.mode is Mode.ISOLATED:
        return "выполняются изолированно (bubblewrap)"
    if isolation.mode is Mode.UNISOLATED:
        return f"выполняются БЕЗ изоляции ОС (разрешено SIGNAL_ALGORITHMS_UNISOLATED): {isolation.reason}"
    return (
        f"отклоняются: {isolation.reason}; {INSTALL_HINT} "
        "или разрешите запуск без изоляции: SIGNAL_ALGORITHMS_UNISOLATED=true"
    )


def decide(bwrap: str, allow_unisolated: bool) -> Isolation:
    """Tries bwrap once: isolated when it starts; otherwise unisolated if the administrator allowed it, else refused."""
    reason = probe(bwrap)
    program, _ = _program()  # without bubblewrap, unisolated runs still get the filter where libseccomp is
    if reason is None:
        return Isolation(Mode.ISOLATED, bwrap, program=program)
    return Isolation(Mode.UNISOLATED if allow_unisolated else Mode.REFUSED, bwrap, reason, program)

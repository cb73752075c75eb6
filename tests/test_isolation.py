"""The operating-system layer on its own: raw Python run inside the same bubblewrap sandbox as the algorithm worker,
with the language layer switched off (plain ``exec``, every module importable), must see no network, no host file,
no host process, no secret and no privilege, and write nowhere but its private /tmp. Then every run through the
runner starts from a clean state, and where bubblewrap cannot start, designers' algorithms are refused."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from algorithms.api import NoApi
from algorithms.directory import add_algorithm
from algorithms.errors import AlgorithmFailed, AlgorithmStopped, CodeRefused
from algorithms.isolation import Mode, sandbox_command
from algorithms.models import AlgorithmCreate
from algorithms.protocol import ProtocolError, check_call, to_expression, to_value
from algorithms.runner import AlgorithmRunner, IsolationUnavailable, Limits
from cli import main
from signal_ext.bootstrap import App, bootstrap
from signal_ext.http.app import create_http_app
from signal_ext.settings import Settings
from tests.conftest import require_isolation

PROJECT = Path(__file__).resolve().parents[1]
FAKE_TOKEN = "123456:FAKE-token-for-the-isolation-test"
FAKE_PASSWORD = "fake-smtp-password-4f1c"
MISSING_BWRAP = "/nonexistent/bwrap"
PROBE = r"""
import json, os, socket, sys

def attempt(action):
    try:
        return action()
    except OSError as error:
        return f"error {error.errno}"

def connect(host, port):
    with socket.socket() as sock:
        sock.settimeout(2)
        return attempt(lambda: sock.connect((host, port)) or "connected")

def write(path):
    with open(path, "w") as file:
        file.write("x")
    return "written"

status = open("/proc/self/status").read().splitlines()
pids = sorted(int(entry) for entry in os.listdir("/proc") if entry.isdigit())
found = {
    "uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(),
    "caps": {line.split(":")[0]: line.split(":")[1].strip() for line in status if line.startswith("Cap")},
    "environ": dict(os.environ),
    "pids": pids,
    "environs": [attempt(lambda: open(f"/proc/{pid}/environ", "rb").read().decode(errors="replace")) for pid in pids],
    "cmdlines": [attempt(lambda: open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace")) for pid in pids],
    "interfaces": [name for _, name in socket.if_nameindex()],
    "connect": {f"{host}:{port}": connect(host, port) for host, port in json.loads(sys.argv[1])},
    "exists": {path: os.path.exists(path) for path in json.loads(sys.argv[2])},
    "root": sorted(os.listdir("/")),
    "etc": sorted(os.listdir("/etc")),
    "writes": {path: attempt(lambda: write(path)) for path in json.loads(sys.argv[3])},
}
print(json.dumps(found))
"""
ADDRESSES = [("127.0.0.1", 5432), ("127.0.0.1", 8080), ("1.1.1.1", 443), ("10.0.0.1", 80)]
HOST_FILES = [
    str(PROJECT),
    str(PROJECT / ".env"),
    str(PROJECT / "signal.db"),
    str(PROJECT / "pyproject.toml"),
    "/etc/shadow",
    "/etc/passwd",
    "/root/.bashrc",
    "/work",
    "/home",
    "/var",
]
ALLOWED = f"/tmp/allowed-{uuid.uuid4().hex}"
WRITES = [ALLOWED, "/probe", "/etc/probe", "/usr/probe", "/dev/probe", "/sandbox/lib/algorithms/probe"]


@pytest.fixture(scope="module")
def inside() -> dict[str, Any]:
    """What raw Python sees inside the sandbox, started with secrets in the host's environment."""
    require_isolation()
    environment = dict(os.environ, SIGNAL_TELEGRAM_TOKEN=FAKE_TOKEN, SIGNAL_SMTP_PASSWORD=FAKE_PASSWORD)
    bwrap = shutil.which("bwrap") or "bwrap"
    arguments = ["-c", PROBE, json.dumps(ADDRESSES), json.dumps(HOST_FILES), json.dumps(WRITES)]
    done = subprocess.run(
        sandbox_command(bwrap, arguments), env=environment, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def test_no_network(inside: dict[str, Any]) -> None:
    assert inside["interfaces"] in (["lo"], [])
    for address, outcome in inside["connect"].items():
        assert outcome.startswith("error"), address  # PostgreSQL on the host's 127.0.0.1 is not this loopback


def test_no_host_file(inside: dict[str, Any]) -> None:
    assert inside["exists"] == dict.fromkeys(HOST_FILES, False)
    assert inside["etc"] == ["localtime"]
    assert set(inside["root"]) <= {"usr", "bin", "lib", "lib64", "sbin", "etc", "root", "sandbox", "tmp", "dev", "proc"}


def test_no_host_process(inside: dict[str, Any]) -> None:
    assert inside["pids"] == [1]  # this interpreter alone: no host process, not even bubblewrap's
    assert inside["cmdlines"][0].startswith(str(Path(sys.executable).resolve()))


def test_no_secret_in_the_environment(inside: dict[str, Any]) -> None:
    assert set(inside["environ"]) <= {"LANG", "PWD"}
    for seen in [json.dumps(inside["environ"]), *inside["environs"]]:
        assert FAKE_TOKEN not in seen and FAKE_PASSWORD not in seen and "SIGNAL_" not in seen


def test_not_root_and_no_capability(inside: dict[str, Any]) -> None:
    assert inside["uid"] != 0 and inside["euid"] != 0 and inside["gid"] != 0
    assert inside["caps"] and set(inside["caps"].values()) == {"0000000000000000"}


def test_writes_only_to_its_private_tmp(inside: dict[str, Any]) -> None:
    assert inside["writes"].pop(ALLOWED) == "written"
    assert all(outcome.startswith("error") for outcome in inside["writes"].values()), inside["writes"]
    assert not Path(ALLOWED).exists()  # the sandbox's /tmp is its own


@pytest.fixture(scope="module")
def isolated() -> Iterator[AlgorithmRunner]:
    require_isolation()
    runner = AlgorithmRunner(Limits(timeout_seconds=2), workers=1)
    assert runner.isolation.mode is Mode.ISOLATED
    yield runner
    runner.close()


@pytest.mark.parametrize(
    ("spoil", "check", "expected"),
    [
        (
            "import random\nrandom.seed(1)\n_Результат = random.random()",
            "import random\n_Результат = random.random()",
            None,
        ),
        (
            "import decimal\ndecimal.setcontext(decimal.Context(prec=1))\n_Результат = str(decimal.Decimal(2) / 3)",
            "import decimal\n_Результат = str(decimal.Decimal(2) / 3)",
            "0.6666666666666666666666666667",
        ),
        (
            "import functools, json\nclass F:\n    dumps = lambda *a, **k: 'ПОДМЕНЕНО'\n"
            "functools.update_wrapper(json, F, assigned=('dumps',), updated=())\n_Результат = 'подменил'",
            "import json\n_Результат = json.dumps([1])",
            "[1]",
        ),
        ("import time\n_Результат = time.time()", "import json\n_Результат = json.dumps({'a': 1})", '{"a": 1}'),
    ],
)
def test_every_run_starts_from_a_clean_state(isolated: AlgorithmRunner, spoil: str, check: str, expected: Any) -> None:
    try:
        spoiled = isolated.run(spoil, None, None, NoApi())
    except Exception as error:  # the language layer may refuse it first; either way the next run is clean
        spoiled = str(error)
    for _ in range(3):  # each of the next runs, in the same template
        value = isolated.run(check, None, None, NoApi())
        assert value == expected if expected is not None else value != spoiled


def test_expression_runs_in_a_fresh_sandboxed_process(isolated: AlgorithmRunner) -> None:
    found = isolated.evaluate_expression("7*6", datetime(2026, 12, 1, 10, 0), "chat")
    assert found is not None and found.text == "42"


def test_refused_where_bubblewrap_cannot_start() -> None:
    runner = AlgorithmRunner(Limits(timeout_seconds=2), workers=1, bwrap=MISSING_BWRAP)
    try:
        assert runner.isolation.mode is Mode.REFUSED
        with pytest.raises(IsolationUnavailable) as caught:
            runner.run("_Результат = 1", None, None, NoApi())
        assert "apt-get install bubblewrap" in caught.value.message
        assert "SIGNAL_ALGORITHMS_UNISOLATED=true" in caught.value.message and "\n" not in caught.value.message
        found = runner.evaluate_expression("2+2*2", datetime(2026, 12, 1), None)  # still never in this process
        assert found is not None and found.text == "6"
    finally:
        runner.close()
    allowed = AlgorithmRunner(Limits(timeout_seconds=2), workers=1, bwrap=MISSING_BWRAP, allow_unisolated=True)
    try:
        assert allowed.isolation.mode is Mode.UNISOLATED
        assert allowed.run("_Результат = 6 * 7", None, None, NoApi()) == 42
    finally:
        allowed.close()


def test_the_console_and_health_say_which_mode(database_url: str) -> None:
    app = bootstrap(Settings(database_url=database_url, algorithm_bwrap=MISSING_BWRAP, algorithms_unisolated=False))
    try:
        with app.open_session() as session:
            add_algorithm(session, AlgorithmCreate(name="Ответ", code="_Результат = 42"))
            session.commit()
        assert asyncio.run(_health(app))["algorithms"] == "refused"
    finally:
        app.close()
    runner = CliRunner()
    base = {"SIGNAL_DATABASE_URL": database_url, "SIGNAL_ALGORITHM_BWRAP": MISSING_BWRAP}
    refused = runner.invoke(main, ["algorithm", "run", "Ответ"], env={**base, "SIGNAL_ALGORITHMS_UNISOLATED": "false"})
    assert refused.exit_code != 0 and refused.stdout == ""
    [line] = refused.stderr.splitlines()
    assert "apt-get install bubblewrap" in line and "Traceback" not in refused.stderr
    allowed = runner.invoke(main, ["algorithm", "run", "Ответ"], env={**base, "SIGNAL_ALGORITHMS_UNISOLATED": "true"})
    assert allowed.exit_code == 0 and allowed.stdout == "42\n"
    assert "БЕЗ изоляции" in allowed.stderr


async def _health(app: App) -> dict[str, Any]:
    transport = httpx.ASGITransport(app=create_http_app(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://signal") as client:
        found: dict[str, Any] = (await client.get("/health")).json()
        return found


def test_service_start_line_says_refused(tmp_path: Path, database_url: str) -> None:
    script = str(Path(sys.executable).parent / "signal-ext")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNAL_")}
    env |= {"SIGNAL_DATABASE_URL": database_url, "SIGNAL_ALGORITHM_BWRAP": MISSING_BWRAP}
    service = subprocess.Popen(
        [script, "run", "--port", "0"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        lines = _lines_until_mode(service)
        assert "отклоняются" in lines[-1] and "apt-get install bubblewrap" in lines[-1]
    finally:
        service.terminate()
        service.wait(timeout=30)


def _lines_until_mode(process: subprocess.Popen[str]) -> list[str]:
    """The lines ``process`` prints up to and including its «Алгоритмы: …» line."""
    assert process.stdout is not None
    lines: list[str] = []
    while not any(line.startswith("Алгоритмы:") for line in lines):
        line = process.stdout.readline()
        assert line, lines
        lines.append(line)
    return lines


def _sandboxes() -> set[int]:
    """This test process's bubblewrap children that hold an algorithm template."""
    mine = str(os.getpid())
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
            command = (entry / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if parent == mine and b"algorithms.zygote" in command:
            found.add(int(entry.name))
    return found


def _dead(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_a_template_that_stops_answering_is_killed_with_its_sandbox_and_replaced() -> None:
    require_isolation()
    before = _sandboxes()
    runner = AlgorithmRunner(Limits(timeout_seconds=1), workers=1)
    try:
        assert runner.run("_Результат = 1", None, None, NoApi()) == 1
        [sandbox] = _sandboxes() - before
        [template] = Path(f"/proc/{sandbox}/task/{sandbox}/children").read_text().split()
        os.kill(int(template), signal.SIGSTOP)  # hung: neither the run's end nor its time limit will come from it
        started = time.monotonic()
        with pytest.raises(AlgorithmStopped) as caught:
            runner.run("_Результат = 2", None, None, NoApi())
        assert caught.value.limit == "time" and time.monotonic() - started < 5
        assert sandbox not in _sandboxes()
        deadline = time.monotonic() + 5
        while not _dead(int(template)):  # killed with its sandbox (a zombie until the host's init reaps it)
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert runner.run("_Результат = 3", None, None, NoApi()) == 3
    finally:
        runner.close()
    assert _sandboxes() == before


def test_demo_without_bubblewrap_runs_its_algorithms_unisolated_and_says_so(tmp_path: Path) -> None:
    script = str(Path(sys.executable).parent / "signal-ext")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNAL_")}
    env["SIGNAL_ALGORITHM_BWRAP"] = MISSING_BWRAP
    log = tmp_path / "stderr.txt"
    with log.open("w") as errors:
        demo = subprocess.Popen(
            [script, "demo", "--port", "0"], cwd=tmp_path, env=env, text=True, stdout=subprocess.PIPE, stderr=errors
        )
    try:
        lines = _lines_until_mode(demo)
        assert "БЕЗ изоляции" in lines[-1]
        url = next(line for line in lines if line.startswith("Signal работает")).split(": ", 1)[1].strip()
        assert httpx.get(f"{url}/health", timeout=10).json()["algorithms"] == "unisolated"
    finally:
        demo.send_signal(signal.SIGINT)
        demo.wait(timeout=30)
    banner = log.read_text()
    assert "ВНИМАНИЕ" in banner and "apt-get install bubblewrap" in banner


@pytest.mark.parametrize(
    "message",
    [
        {},
        {"done": {"словарь": 1}},
        {"done": ["x" * 70_000]},
        {"failed": ["не текст"]},
        {"refused": "не словарь"},
        {"value": "не словарь"},
        {"value": {"text": 42}},
        {"value": {"text": "42", "value": ["список"]}},
    ],
)
def test_the_host_refuses_what_the_protocol_does_not_allow(message: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError):
        to_value(message, Limits()) if "value" not in message else to_expression(message)


@pytest.mark.parametrize(
    "call",
    [{"call": 1}, {"call": "persons", "args": "x"}, {"call": "persons", "kwargs": {"1": 1, 2: 2}}, {"call": "x" * 65}],
)
def test_an_api_call_of_the_wrong_shape_is_refused(call: dict[Any, Any]) -> None:
    with pytest.raises(ProtocolError):
        check_call(call)


ESCAPE = """
import functools
def w():
    pass
functools.update_wrapper(w, api.persons, assigned=(), updated=("__globals__",))
def probe():
    os = getattr(contextlib, "os")
    load = getattr(getattr(os, "sys").modules["builtins"], "__import__")
    found = {"uid": os.getuid(), "environ": dict(os.environ), "pids": [p for p in os.listdir("/proc") if p.isdigit()]}
    found["project"] = getattr(os, "path").exists(PROJECT)
    try:
        os.fork()
        found["fork"] = "forked"
    except OSError:
        found["fork"] = "refused"
    try:
        load("socket").create_connection(("127.0.0.1", 5432), 2)
        found["connect"] = "connected"
    except OSError:
        found["connect"] = "refused"
    return load("json").dumps(found)
_Результат = probe()
"""


def test_an_escape_from_the_language_layer_is_held_by_the_os_layer(monkeypatch: pytest.MonkeyPatch) -> None:
    """A known family of language-layer escapes (a function wrapper copying the worker's globals): either the
    language layer refuses it, or what it reaches is the sandbox: no secret, no host, no root, no fork, no network."""
    require_isolation()
    monkeypatch.setenv("SIGNAL_TELEGRAM_TOKEN", FAKE_TOKEN)
    runner = AlgorithmRunner(Limits(timeout_seconds=3), workers=1)
    try:
        try:
            value = runner.run(ESCAPE.replace("PROJECT", repr(str(PROJECT))), None, None, NoApi())
        except (AlgorithmFailed, CodeRefused):
            value = None  # refused by the language layer
        if value is not None:
            found = json.loads(str(value))
            assert found["uid"] == 65534 and set(found["environ"]) <= {"LANG", "PWD"}
            assert FAKE_TOKEN not in str(value) and found["project"] is False
            assert found["fork"] == "refused" and found["connect"] == "refused" and len(found["pids"]) <= 2
        assert runner.run("_Результат = 'жив'", None, None, NoApi()) == "жив"
    finally:
        runner.close()


def test_health_says_isolated_where_bubblewrap_starts(database_url: str) -> None:
    require_isolation()
    app = bootstrap(Settings(database_url=database_url, algorithm_bwrap="bwrap", algorithms_unisolated=False))
    try:
        assert asyncio.run(_health(app))["algorithms"] == "isolated"
    finally:
        app.close()

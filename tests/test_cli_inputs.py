"""Hostile and absurd input to every command is one Russian line on stderr, a non-zero exit and nothing written.

The catalogue runs against one seeded database per backend (a refused command changes nothing, and each case
checks exactly that), so it stays fast.
"""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from cli import main
from keywords.errors import KeywordFileError
from keywords.file import parse_keyword_file
from signal_ext.commands import params
from signal_ext.storage import create_db_engine
from tests.helpers import row_counts

HUGE = "99999999999999999999999"
MEGABYTE = "Я" * 1_000_000
NUL = "\x00"
ENGLISH_EXCEPTION = re.compile(r"\b[A-Z][A-Za-z]*(Error|Exception|Warning)\b|Traceback")
GOOD_SCENARIO = "scenarios:\n  - name: Новый\n    steps:\n      - title: Шаг\n"


def _laughs() -> str:
    """A «billion laughs»: nine levels of nine aliases to the level below."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 9)]
    return "\n".join(lines) + "\n" + GOOD_SCENARIO


def _deep_keywords(depth: int) -> str:
    """A keyword file whose records are nested ``depth`` choices deep."""
    lines = ["keywords:"]
    for level in range(depth):
        pad = "  " * (2 * level + 1)
        lines += [f"{pad}- words: Слово {level}", f"{pad}  kind: choice", f"{pad}  choices:"]
    pad = "  " * (2 * depth + 1)
    lines += [f"{pad}- words: Лист", f"{pad}  kind: text", f"{pad}  answer: Ответ"]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Case:
    """A command line; ``{file}`` in it is replaced by a file holding ``content`` (text, or bytes as they are)."""

    name: str
    args: tuple[str, ...]
    content: str | bytes | None = None
    stdin: str | None = None


ID_COMMANDS = [
    ("task", "show"),
    ("task", "complete"),
    ("task", "ack"),
    ("process", "show"),
    ("process", "cancel"),
    ("message", "cancel"),
    ("inbox", "read"),
    ("registration", "reject", "--reason", "нет"),
    ("registration", "approve", "--as", "user", "--new-name", "Новый"),
]
REF_COMMANDS = [
    ("person", "show"),
    ("person", "block", "--reason", "нет"),
    ("person", "unblock"),
    ("person", "delete"),
    ("person", "invite"),
    ("inbox", "list"),
    ("scenario", "show"),
    ("bot", "show"),
    ("bot", "texts"),
    ("keywords", "tree"),
    ("algorithm", "show"),
    ("algorithm", "delete"),
    ("algorithm", "run"),
]


def _with_id(command: tuple[str, ...], value: str) -> tuple[str, ...]:
    return (*command[:2], value, *command[2:])


CASES = [
    *(
        Case(f"{' '.join(c[:2])} {label}", _with_id(c, v))
        for c in ID_COMMANDS
        for label, v in (("2^76", HUGE), ("0", "0"), ("-1", "-1"), ("²", "²"))
    ),
    *(Case(f"{' '.join(c[:2])} 2^76", _with_id(c, HUGE)) for c in REF_COMMANDS),
    Case("process start 2^76", ("process", "start", HUGE)),
    Case("person show ²", ("person", "show", "²")),
    # JSON typed as --data
    Case("--data 5000 brackets", ("algorithm", "run", "Нет", "--data", "[" * 5000 + "]" * 5000)),
    Case("--data 65 levels", ("algorithm", "run", "Нет", "--data", "[" * 65 + "]" * 65)),
    Case("--data NaN", ("algorithm", "run", "Нет", "--data", "NaN")),
    Case("--data 1e999", ("algorithm", "run", "Нет", "--data", "1e999")),
    Case("--data 5000 digits", ("algorithm", "run", "Нет", "--data", "1" * 5000)),
    Case("--data surrogate", ("algorithm", "run", "Нет", "--data", '"\\ud800"')),
    Case("--data 2 MB", ("algorithm", "run", "Нет", "--data", f'"{MEGABYTE}{MEGABYTE}"')),
    Case("--data bad JSON", ("algorithm", "run", "Нет", "--data", "{bad")),
    Case(
        "field of 5000 digits",
        ("task", "complete", "2", "--data", "item=x", "--data", f"quantity={'9' * 5000}", "--data", "amount=1"),
    ),
    Case(
        "field 1e400", ("task", "complete", "2", "--data", "item=x", "--data", "quantity=1", "--data", "amount=1e400")
    ),
    # scenario files
    Case("scenario NUL byte", ("scenario", "load", "{file}"), GOOD_SCENARIO + f"# {NUL}\n"),
    Case("scenario NUL escape", ("scenario", "load", "{file}"), GOOD_SCENARIO.replace("Шаг", '"Ш\\0аг"')),
    Case("scenario bell", ("scenario", "load", "{file}"), GOOD_SCENARIO.replace("Новый", "Нов\x07ый")),
    Case("scenario 5000 brackets", ("scenario", "load", "{file}"), "scenarios: " + "[" * 5000 + "]" * 5000),
    Case(
        "scenario 400 levels",
        ("scenario", "load", "{file}"),
        "scenarios:\n" + "".join("  " * i + "-\n" for i in range(1, 400)),
    ),
    Case("scenario billion laughs", ("scenario", "load", "{file}"), _laughs()),
    Case("scenario self alias", ("scenario", "load", "{file}"), "scenarios: &s [*s]\n"),
    Case("scenario 11 MB", ("scenario", "load", "{file}"), GOOD_SCENARIO + "# комментарий\n" * 450_000),
    Case(
        "scenario deadline 99999999999d",
        ("scenario", "load", "{file}"),
        GOOD_SCENARIO.replace("steps:", "deadline: 99999999999d\n    steps:"),
    ),
    Case(
        "scenario deadline 10^11 hours",
        ("scenario", "load", "{file}"),
        GOOD_SCENARIO.replace("steps:", "deadline: 99999999999\n    steps:"),
    ),
    Case(
        "scenario step deadline 10^31h",
        ("scenario", "load", "{file}"),
        GOOD_SCENARIO + "        deadline: " + "9" * 31 + "h\n",
    ),
    Case(
        "scenario date 2021-13-01",
        ("scenario", "load", "{file}"),
        GOOD_SCENARIO.replace("steps:", "description: 2021-13-01\n    steps:"),
    ),
    Case(
        "scenario 5000 digits",
        ("scenario", "load", "{file}"),
        GOOD_SCENARIO.replace("steps:", f"description: {'1' * 5000}\n    steps:"),
    ),
    Case("scenario not UTF-8", ("scenario", "load", "{file}"), GOOD_SCENARIO.encode("cp1251")),
    Case("scenario directory", ("scenario", "load", ".")),
    Case("scenario /dev/zero", ("scenario", "load", "/dev/zero")),
    # keyword files
    Case("keywords 400 levels", ("keywords", "load", "shop", "{file}"), _deep_keywords(400)),
    Case(
        "keywords NUL escape",
        ("keywords", "load", "shop", "{file}"),
        'keywords:\n  - {words: Привет, kind: text, answer: "a\\0b"}\n',
    ),
    Case(
        "keywords NUL byte",
        ("keywords", "load", "shop", "{file}"),
        f"keywords:\n  - {{words: Привет, kind: text, answer: a{NUL}b}}\n",
    ),
    # deadlines
    Case(
        "--deadline 31.12.9999",
        ("task", "create", "--description", "x", "--author", "Иванов", "--deadline", "31.12.9999"),
    ),
    Case(
        "--deadline year 1",
        ("task", "create", "--description", "x", "--author", "Иванов", "--deadline", "0001-01-01T00:30"),
    ),
    Case("--deadline bad", ("task", "create", "--description", "x", "--author", "Иванов", "--deadline", "31.02.2030")),
    Case(
        "--at 31.12.9999",
        ("message", "send", "--to", "Иванов", "--channel", "inbox", "--text", "x", "--at", "31.12.9999"),
    ),
    Case(
        "--at 5000 digits",
        ("message", "send", "--to", "Иванов", "--channel", "inbox", "--text", "x", "--at", "1" * 5000),
    ),
    Case(
        "--at 5000 years",
        ("message", "send", "--to", "Иванов", "--channel", "inbox", "--text", "x", "--at", "через 5000 лет"),
    ),
    Case("--at 1 MB", ("message", "send", "--to", "Иванов", "--channel", "inbox", "--text", "x", "--at", MEGABYTE)),
    # a NUL in any text that would be stored
    Case("NUL task description", ("task", "create", "--description", f"a{NUL}b", "--author", "Иванов")),
    Case(
        "NUL task comment",
        ("task", "complete", "2", "--comment", NUL, "--data", "item=x", "--data", "quantity=1", "--data", "amount=1"),
    ),
    Case(
        "NUL --data value",
        ("task", "complete", "2", "--data", f"item=a{NUL}", "--data", "quantity=1", "--data", "amount=1"),
    ),
    Case("NUL person name", ("person", "add", f"Новиков{NUL}")),
    Case(
        "NUL process description",
        ("process", "start", "Согласование договора", "--author", "Иванов", "--description", NUL),
    ),
    Case("NUL cancel reason", ("process", "cancel", "2", "--reason", NUL)),
    Case("NUL block reason", ("person", "block", "Иванов", "--reason", NUL)),
    Case("NUL message text", ("message", "send", "--to", "Иванов", "--channel", "inbox", "--text", NUL)),
    Case("NUL bot description", ("bot", "add", "other", "--description", NUL)),
    Case("NUL bot text", ("bot", "text-set", "shop", "unknown_request", "-"), stdin=f"Не понял{NUL}"),
    Case("NUL algorithm code", ("algorithm", "add", "Нулевой", "--code", f"_Результат = 1 # {NUL}")),
    # very long texts
    Case("1 MB person name", ("person", "add", MEGABYTE)),
    Case("1 MB person ref", ("person", "show", MEGABYTE)),
    Case("1 MB scenario ref", ("process", "start", MEGABYTE, "--author", "Иванов")),
    Case("1 MB bot name", ("bot", "add", MEGABYTE)),
    Case("5000-digit chat key", ("person", "link", "Петрова", "--key", "1" * 5000)),
    Case("1 MB option name", ("task", "list", "--" + "x" * 1_000_000)),
    # calling a command wrongly
    Case("bad status", ("task", "list", "--status", "Готово")),
    Case("bad kind", ("person", "add", "Новиков", "--kind", "alien")),
    Case("bad channel", ("message", "send", "--to", "Иванов", "--channel", "sms", "--text", "x")),
    Case("bad port", ("demo", "--port", "99999999")),
    Case("missing argument", ("task", "show")),
    Case("missing option", ("person", "block", "Иванов")),
    Case("option without value", ("task", "create", "--description")),
    Case("flag with value", ("task", "list", "--json=yes")),
    Case("unknown option", ("task", "list", "--everything")),
    Case("unknown command", ("taks", "list")),
    Case("extra argument", ("task", "show", "1", "2")),
    Case(
        "missing attachment",
        ("process", "start", "Согласование договора", "--author", "Иванов", "--attach", "nope.pdf"),
    ),
    Case("run on a foreign address", ("run", "--host", "192.0.2.1", "--port", "0")),
    Case("emulator on a foreign address", ("emulator", "--host", "192.0.2.1", "--port", "0")),
    Case(
        "attachment /dev/zero",
        ("process", "start", "Согласование договора", "--author", "Иванов", "--attach", "/dev/zero"),
    ),
    Case("algorithm file /dev/zero", ("algorithm", "add", "Нулевой", "--file", "/dev/zero")),
    Case("export into a directory", ("keywords", "export", "shop", "--output", ".")),
    Case("empty file name", ("scenario", "load", "")),
    Case("5000-character file name", ("scenario", "load", "я" * 5000)),
    Case("argument not UTF-8", ("person", "show", "\udcff")),
    Case("text not UTF-8", ("task", "create", "--description", "a\udcffb", "--author", "Иванов")),
]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def seeded_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[str]:
    """One database per backend with the demo, a finished and an active process and a bot «shop»."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("inputs") / "signal.db"
        shutil.copyfile(sqlite_template, path)
        yield from _seeded(f"sqlite:///{path}")
        return
    server = make_url(request.getfixturevalue("postgres_url"))
    name = f"signal_inputs_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield from _seeded(server.set(database=name).render_as_string(hide_password=False))
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _seeded(url: str) -> Iterator[str]:
    for args in (
        ("demo", "--no-serve"),
        ("process", "start", "Согласование договора", "--author", "Иванов"),
        ("task", "complete", "1"),
        ("process", "start", "Закупка оборудования", "--author", "Иванов"),
        ("bot", "add", "shop"),
    ):
        result = _run(url, args)
        assert result.exit_code == 0, result.output
    yield url


def _run(url: str, args: tuple[str, ...], stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=stdin, env={"SIGNAL_DATABASE_URL": url}, catch_exceptions=False)


def assert_one_russian_line(result: Result) -> str:
    """The refusal: a non-zero exit, nothing on stdout, one line on stderr in Russian without exception names."""
    assert result.exit_code != 0, result.output[:500]
    assert result.stdout == "", result.stdout[:500]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr[:2000]
    [line] = lines
    assert re.search("[а-яА-ЯёЁ]", line), line
    assert not ENGLISH_EXCEPTION.search(line), line
    assert len(line) < 1000, line[:300]
    return line


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_absurd_input_is_one_russian_line_and_changes_nothing(
    seeded_url: str, case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    args = case.args
    if case.content is not None:
        file = tmp_path / "input.yaml"
        if isinstance(case.content, bytes):
            file.write_bytes(case.content)
        else:
            file.write_text(case.content, encoding="utf-8")
        args = tuple(str(file) if arg == "{file}" else arg for arg in args)
    engine = create_db_engine(seeded_url)
    before = row_counts(engine)
    assert_one_russian_line(_run(seeded_url, args, case.stdin))
    assert row_counts(engine) == before
    engine.dispose()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("garbage", "не адрес базы данных"),
        ("postgresql://:@:99999999/", "порт 99999999"),
        ("postgresql://u@h:port/db", "не адрес базы данных"),
        ("sqlite:///nonexistent/dir/x.db", "каталога"),
        ("mysql://u@h/db", "СУБД «mysql»"),
        ("foo://x", "СУБД «foo»"),
        ("postgresql+asyncpg://u@h/db", "драйвер «asyncpg»"),
        ("sqlite+foo:///x.db", "драйвер «foo»"),
        ("postgresql://u:topsecret@127.0.0.1:1/db", "недоступна"),
    ],
)
@pytest.mark.parametrize("command", [("task", "list"), ("run", "--port", "0"), ("init",)], ids=" ".join)
def test_a_database_url_the_service_cannot_use_is_one_line_naming_the_setting(
    url: str, expected: str, command: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    line = assert_one_russian_line(_run(url, command))
    assert "SIGNAL_DATABASE_URL" in line and expected in line, line
    assert "topsecret" not in line


def test_no_command_is_left_with_a_parameter_type_that_refuses_in_english() -> None:
    own = (params.RecordId, params.Choice, params.DateTime, params.Port, params.FilePath)
    plain = (click.types.StringParamType, click.types.BoolParamType)
    found = []

    def walk(command: click.Command, path: str) -> None:
        for param in command.params:
            if not isinstance(param.type, own + plain):
                found.append(f"{path} {param.name}: {type(param.type).__name__}")
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, f"{path} {name}")

    walk(main, "signal-ext")
    assert found == []


def test_the_keyword_nesting_the_docs_promise_loads_and_one_more_level_is_refused() -> None:
    assert parse_keyword_file(_deep_keywords(30), lambda _name: True).count() == (31, 0)
    with pytest.raises(KeywordFileError, match="вложенность глубже 64 уровней"):
        parse_keyword_file(_deep_keywords(31), lambda _name: True)


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("SIGNAL_DISPATCH_LEASE_SECONDS", "nan"),
        ("SIGNAL_DISPATCH_LEASE_SECONDS", "1e308"),
        ("SIGNAL_DISPATCH_MAX_ATTEMPTS", HUGE),
        ("SIGNAL_SMTP_TIMEOUT", "-1"),
        ("SIGNAL_BOTS_RELOAD_SECONDS", "inf"),
        ("SIGNAL_WORKDAY_END", "25:00"),
    ],
)
def test_an_absurd_number_in_a_setting_is_one_line_naming_it(
    setting: str, value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        main, ["dispatch", "--once"], env={"SIGNAL_DATABASE_URL": f"sqlite:///{tmp_path}/s.db", setting: value}
    )
    assert setting in assert_one_russian_line(result)

"""Designers' algorithms: results, variables, the database api, the directory, the CLI, and the sandbox holding
against escapes (each attack is followed by an ordinary algorithm that must still answer)."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from algorithms.api import NoApi
from algorithms.directory import add_algorithm, find_algorithm, telegram_algorithm_named, update_algorithm
from algorithms.errors import AlgorithmError, AlgorithmFailed, AlgorithmNotFound, AlgorithmStopped, CodeRefused
from algorithms.models import AlgorithmCreate, CollectionRecord
from algorithms.runner import AlgorithmRunner, Limits
from processes.models import PersonCreate, Process, Task
from signal_ext.bootstrap import App, bootstrap
from signal_ext.settings import Settings
from tests.conftest import CliRun
from tests.helpers import seed

SCENARIOS = """
scenarios:
  - name: Согласование договора
    steps:
      - title: Согласовать договор
"""
PEOPLE = [PersonCreate(full_name="Петрова Мария Сергеевна"), PersonCreate(full_name="Сидоров Алексей Петрович")]
ALIVE = "_Результат = 'жив'"
UNISOLATED = os.environ.get("SIGNAL_ALGORITHMS_UNISOLATED") == "true"  # set by conftest where bwrap cannot start


@pytest.fixture(scope="module")
def runner() -> Iterator[AlgorithmRunner]:
    """A runner with a short time limit, shared by the sandbox tests (its pool is re-filled after every kill)."""
    limits = Limits(timeout_seconds=1.5, memory_mb=256, api_calls=20)
    pool = AlgorithmRunner(limits, workers=2, allow_unisolated=UNISOLATED)
    yield pool
    pool.close()


def _run(runner: AlgorithmRunner, code: str, performer: dict[str, object] | None = None, data: object = None) -> object:
    return runner.run(code, performer, data, NoApi())


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("_Результат = 'Привет'", "Привет"),
        ("_Результат = 6 * 7", 42),
        ("_Результат = 2.5", 2.5),
        ("_Результат = 1 > 2", False),
        ("x = 1", None),
        ("_Результат = ['Вариант 1', 'Вариант 2', 3]", ["Вариант 1", "Вариант 2", 3]),
        (
            "import datetime\n_Результат = [datetime.date(2026, 12, 1) + datetime.timedelta(days=d) for d in range(2)]",
            ["01.12.2026", "02.12.2026"],
        ),
        ("import decimal\n_Результат = decimal.Decimal('1.50')", "1.50"),
    ],
)
def test_results_of_each_type(runner: AlgorithmRunner, code: str, expected: object) -> None:
    assert _run(runner, code) == expected


def test_allowed_modules_work_inside_the_limits(runner: AlgorithmRunner) -> None:
    code = """
import collections, datetime, json, re, statistics, time
print('отладка не мешает')
day = datetime.datetime.strptime('01.12.2026', '%d.%m.%Y')
result = [
    collections.Counter('ааб').most_common(1)[0][0],
    day,
    json.dumps({'a': [1]}),
    re.sub(r'\\d', '#', 'А1'),
    statistics.median([1, 5, 3]),
    len(time.strftime('%Y')),
]
"""
    assert _run(runner, code) == ["а", "01.12.2026 00:00:00", '{"a": [1]}', "А#", 3, 4]


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("_Результат = {'a': 1}", "dict"),
        ("_Результат = list(range(101))", "101"),
        ("_Результат = 'я' * 100000", "байт"),
        ("_Результат = [[1]]", "list"),
    ],
)
def test_unusable_results_are_refused_clearly(runner: AlgorithmRunner, code: str, words: str) -> None:
    with pytest.raises(AlgorithmFailed, match=words):
        _run(runner, code)


def test_designer_variables_and_english_aliases(runner: AlgorithmRunner) -> None:
    performer = {"id": 7, "name": "Петрова Мария Сергеевна"}
    code = "_Результат = _Исполнитель['name'] + ': ' + ' / '.join(_ДанныеДляОбработки)"
    assert (
        _run(runner, code, performer, ["Вариант 2", "Вариант 2.1"])
        == "Петрова Мария Сергеевна: Вариант 2 / Вариант 2.1"
    )
    assert _run(runner, "result = performer['id'] + len(data)", performer, [1, 2]) == 9
    assert _run(runner, "_Результат = 'мой'\nresult = 'не мой'") == "мой"


def test_designer_error_keeps_the_traceback_out_of_the_message(runner: AlgorithmRunner) -> None:
    with pytest.raises(AlgorithmFailed) as caught:
        _run(runner, "x = 1\ny = x / 0\n")
    assert caught.value.message == "Алгоритм завершился с ошибкой: ZeroDivisionError: division by zero"
    assert "строка 2" in caught.value.traceback and "y = x / 0" in caught.value.traceback
    assert "worker.py" not in caught.value.traceback


ESCAPES = [
    ("import os", AlgorithmFailed, "импорт модуля «os» запрещён"),
    ("import subprocess", AlgorithmFailed, "импорт модуля «subprocess» запрещён"),
    ("from os import path", AlgorithmFailed, "импорт модуля «os» запрещён"),
    ("_Результат = open('/etc/passwd').read()", AlgorithmFailed, "open"),
    ("x = ().__class__.__base__.__subclasses__()", CodeRefused, "строка 1: атрибут «__class__» запрещён"),
    ("\n__import__('os').system('id')", CodeRefused, "строка 2: имя «__import__» запрещено"),
    ("x = getattr((), '__class__')", AlgorithmFailed, "«__class__» запрещён"),
    ("import statistics\nx = statistics.sys.modules", AlgorithmFailed, "в модуле «statistics» нет «sys»"),
    ("import string\nx = string.Formatter()", AlgorithmFailed, "в модуле «string» нет «Formatter»"),
    ("x = '{0.__class__}'.format(1)", CodeRefused, "строка 1: атрибут «format» запрещён"),
    ("def g():\n    yield 1\nx = g().gi_frame", CodeRefused, "строка 3: атрибут «gi_frame» запрещён"),
    ("x = api.persons.__self__", CodeRefused, "«__self__» запрещён"),
    ("exec('1')", CodeRefused, "exec"),
    ("x = eval('1')", CodeRefused, "eval"),
]


@pytest.mark.parametrize(("code", "error", "words"), ESCAPES)
def test_escapes_are_refused_and_the_runner_still_answers(
    runner: AlgorithmRunner, code: str, error: type[AlgorithmError], words: str
) -> None:
    with pytest.raises(error) as caught:
        _run(runner, code)
    assert words in caught.value.message
    assert _run(runner, ALIVE) == "жив"


@pytest.mark.parametrize(
    ("code", "limits"),
    [
        ("while True:\n    pass", {"time", "cpu"}),
        ("x = 'x' * 10**10", {"memory"}),
        ("x = [0] * 10**10", {"memory"}),
        ("for i in range(1000):\n    try:\n        api.scenarios()\n    except ApiError:\n        pass", {"api"}),
    ],
)
def test_limits_stop_the_run_and_a_fresh_worker_answers(runner: AlgorithmRunner, code: str, limits: set[str]) -> None:
    started = time.monotonic()
    with pytest.raises(AlgorithmStopped) as caught:
        _run(runner, code)
    assert caught.value.limit in limits
    assert "остановлен" in caught.value.message
    assert time.monotonic() - started < 4
    assert _run(runner, ALIVE) == "жив"


def test_no_file_can_be_written(runner: AlgorithmRunner, tmp_path: Path) -> None:
    target = tmp_path / "written.txt"
    attempts = [
        f"open({str(target)!r}, 'w').write('x')",
        f"import pathlib\npathlib.Path({str(target)!r}).write_text('x')",
        f"import io\nio.open({str(target)!r}, 'w')",
    ]
    for code in attempts:
        with pytest.raises(AlgorithmFailed):
            _run(runner, code)
    assert not target.exists()
    assert _run(runner, ALIVE) == "жив"


def _worker_pids() -> list[int]:
    mine = str(os.getpid())
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if stat.rsplit(")", 1)[1].split()[1] == mine and b"algorithms.zygote" in command:
            found.append(int(entry.name))
    return found


def test_workers_get_no_secrets_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGNAL_DATABASE_URL", "postgresql://signal:hunter2@db/signal")
    monkeypatch.setenv("SIGNAL_TELEGRAM_TOKEN", "123456:secret-token")
    before = set(_worker_pids())
    pool = AlgorithmRunner(Limits(timeout_seconds=2), workers=1, allow_unisolated=UNISOLATED)
    try:
        assert pool.run("import time\n_Результат = 'ok'", None, None, NoApi()) == "ok"
        [pid] = set(_worker_pids()) - before
        environ = Path(f"/proc/{pid}/environ").read_bytes().decode()
        assert "hunter2" not in environ and "secret-token" not in environ and "SIGNAL_" not in environ
        assert os.listdir(os.readlink(f"/proc/{pid}/cwd")) == []
    finally:
        pool.close()
    assert set(_worker_pids()) == before


def test_workers_start_on_the_first_run_and_stop_with_the_app(database_url: str) -> None:
    before = set(_worker_pids())
    application = bootstrap(Settings(database_url=database_url), apply_migrations=False)
    try:
        assert set(_worker_pids()) == before
        with application.open_session() as session:
            add_algorithm(session, AlgorithmCreate(name="Тест", code=ALIVE))
            session.commit()
        assert application.algorithms.run("Тест", None) == "жив"
        assert len(set(_worker_pids()) - before) == 1
    finally:
        application.close()
    assert set(_worker_pids()) == before


def test_api_reads_and_writes_the_database(app: App) -> None:
    petrova, sidorov = seed(app, SCENARIOS, PEOPLE)
    code = """
task_id = api.create_task('Позвонить клиенту', performer='Сидоров', description='из алгоритма', important=True)
own_id = api.create_task('Себе', deadline='2099-12-31T18:00')
process_id = api.start_process('Согласование договора', 'Договор 15')
record_id = api.store('Визит клиента', {'клиент': 'ООО Ромашка', 'дата': '01.12.2026'})
try:
    api.start_process('Нет такого сценария')
    refused = ''
except ApiError as error:
    refused = str(error)
_Результат = [
    api.persons('Сидоров')[0]['name'],
    api.person(_Исполнитель['id'])['short_name'],
    ' / '.join(api.scenarios()),
    len(api.my_tasks()),
    api.records('Визит клиента')[0]['data']['клиент'],
    refused,
]
"""
    with app.open_session() as session:
        add_algorithm(session, AlgorithmCreate(name="Новый визит", code=code))
        session.commit()
    value = app.algorithms.run("новый  ВИЗИТ", petrova, None)
    assert value == [
        "Сидоров Алексей Петрович",
        "Петрова М. С.",
        "Согласование договора",
        2,  # «Себе» and the contract process's first step, both Петрова's
        "ООО Ромашка",
        "Не найдено: сценарий «Нет такого сценария»",
    ]
    with app.read_session() as session:
        call = session.exec(select(Task).where(Task.title == "Позвонить клиенту")).one()
        assert (call.performer_id, call.author_id, call.important) == (sidorov, petrova, True)
        process = session.exec(select(Process)).one()
        assert (process.author_id, process.description) == (petrova, "Договор 15")
        record = session.exec(select(CollectionRecord)).one()
        assert (record.collection, record.person_id, record.data["дата"]) == ("Визит клиента", petrova, "01.12.2026")


def test_api_without_performer_and_bad_arguments_fail_clearly(app: App) -> None:
    with app.open_session() as session:
        add_algorithm(session, AlgorithmCreate(name="Мои задачи", code="_Результат = len(api.my_tasks())"))
        add_algorithm(session, AlgorithmCreate(name="Лишнее", code="api.store('x', 5)"))
        session.commit()
    with pytest.raises(AlgorithmFailed, match=r"Алгоритм «Мои задачи» .*без исполнителя"):
        app.algorithms.run("Мои задачи", None, None)
    with pytest.raises(AlgorithmFailed, match="словарём"):
        app.algorithms.run("Лишнее", None, None)


def test_directory_matches_ignoring_case_and_spaces(app: App) -> None:
    with app.open_session() as session:
        first = add_algorithm(session, AlgorithmCreate(name="Алгоритм1", alias="А1", telegram=True, code=ALIVE))
        add_algorithm(session, AlgorithmCreate(name="Расчёт", code="_Результат = 2 + 2"))
        assert find_algorithm(session, "а 1").id == first.id
        assert find_algorithm(session, " алгоритм 1 ").id == first.id
        assert find_algorithm(session, str(first.id)).id == first.id
        found = telegram_algorithm_named(session, "а1")
        assert found is not None and found.id == first.id
        assert telegram_algorithm_named(session, "Расчёт") is None  # not a Telegram algorithm
        with pytest.raises(AlgorithmNotFound, match="Не найдено: алгоритм «Нет»"):
            find_algorithm(session, "Нет")
        with pytest.raises(AlgorithmError, match="уже занято алгоритмом «Алгоритм1»"):
            add_algorithm(session, AlgorithmCreate(name="А 1", code=ALIVE))
        with pytest.raises(AlgorithmError, match="уже занято алгоритмом «Расчёт»"):
            add_algorithm(session, AlgorithmCreate(name="Другой", alias="расчёт", code=ALIVE))
        with pytest.raises(CodeRefused, match="Код алгоритма «Плохой» не принят: строка 2: синтаксическая ошибка"):
            add_algorithm(session, AlgorithmCreate(name="Плохой", code="x = 1\nif x\n"))
        with pytest.raises(CodeRefused, match="строка 1"):
            update_algorithm(session, first, code="import os; os.__dict__")
        update_algorithm(session, first, alias="", telegram=False)
        session.commit()
    assert app.algorithms.run_telegram("А1", None) is None
    assert app.algorithms.run_telegram("нет такого", None) is None
    assert app.algorithms.run("Расчёт", None) == 4


def test_failing_algorithm_is_logged_for_the_designer(app: App, caplog: pytest.LogCaptureFixture) -> None:
    with app.open_session() as session:
        add_algorithm(session, AlgorithmCreate(name="Деление", alias="Д", telegram=True, code="a = 1\nb = a / 0"))
        session.commit()
    with caplog.at_level(logging.ERROR, logger="algorithms"), pytest.raises(AlgorithmFailed) as caught:
        app.algorithms.run_telegram("д", None)
    assert caught.value.message == "Алгоритм «Деление» завершился с ошибкой: ZeroDivisionError: division by zero"
    assert "строка 2" not in caught.value.message
    [record] = caplog.records
    assert "«Деление»" in record.getMessage() and "строка 2" in record.getMessage()


def test_cli_add_list_show_run(cli: CliRun, tmp_path: Path) -> None:
    source = tmp_path / "choice.py"
    source.write_text("_Результат = ['Да', 'Нет', len(_ДанныеДляОбработки or [])]\n", encoding="utf-8")
    added = cli("algorithm", "add", "Выбор", "--file", str(source), "--alias", "В1", "--telegram")
    assert added.exit_code == 0, added.output
    assert "Добавлен алгоритм «Выбор» (id 1)" in added.output
    assert cli("algorithm", "add", "Сумма", "--code", "_Результат = 2 + 2 * 2").exit_code == 0
    listed = cli("algorithm", "list")
    assert listed.output.splitlines() == ["   1  Выбор (В1)  [Telegram]", "   2  Сумма"]
    shown = cli("algorithm", "show", "в 1")
    assert "Алгоритм Telegram: да" in shown.output and "_Результат = ['Да', 'Нет'" in shown.output
    ran = cli("algorithm", "run", "Выбор", "--data", '["a", "b"]')
    assert (ran.exit_code, ran.stdout) == (0, "Да\nНет\n2\n")  # stderr: a note when run unisolated
    as_json = cli("algorithm", "run", "Сумма", "--json")
    assert json.loads(as_json.stdout) == 6
    assert cli("algorithm", "update", "Сумма", "--code", "_Результат = 'новый'").exit_code == 0
    assert cli("algorithm", "run", "сумма").stdout == "новый\n"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("algorithm", "run", "Нет"), "Не найдено: алгоритм «Нет»"),
        (("algorithm", "run", "Ошибка"), "Алгоритм «Ошибка» завершился с ошибкой: KeyError: 'x'"),
        (("algorithm", "run", "Ошибка", "--data", "{bad"), "--data: неверный JSON"),
        (("algorithm", "add", "Плохой", "--code", "x = 1\nimport os, sys\ny = ().__class__"), "строка 3"),
        (("algorithm", "add", "Пустой"), "Укажите код"),
        (("algorithm", "add", "Длинный", "--code", "x = " + "1+" * 40000 + "1"), "код слишком сложный"),
        (("algorithm", "add", "Глубокий", "--code", "x = " + "-" * 40000 + "1"), "код слишком сложный"),
        (("algorithm", "add", "Асинхронный", "--code", "async def f():\n    pass"), "строка 1: конструкция async def"),
    ],
)
def test_cli_failures_are_one_line_and_exit_1(cli: CliRun, args: tuple[str, ...], words: str) -> None:
    assert cli("algorithm", "add", "Ошибка", "--code", "_Результат = {}['x']").exit_code == 0
    result = cli(*args)
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], result.stderr


def test_an_algorithm_in_use_cannot_be_deleted_an_unused_one_can(cli: CliRun) -> None:
    assert cli("demo", "--no-serve").exit_code == 0
    used = cli("algorithm", "delete", "свободные даты")
    assert used.exit_code == 1 and "«Запись на приём, Запись» бота helper" in used.output
    auth = cli("algorithm", "delete", "Авторизация по ИНН")
    assert auth.exit_code == 1 and "авторизация бота helper" in auth.output
    assert cli("algorithm", "add", "Черновик", "--code", "_Результат = 1").exit_code == 0
    deleted = cli("algorithm", "delete", "Черновик")
    assert deleted.exit_code == 0 and "удалён" in deleted.output
    assert "Черновик" not in cli("algorithm", "list").output
    assert cli("algorithm", "delete", "Черновик").exit_code == 1


@pytest.mark.parametrize(
    ("call", "words"),
    [
        ("api.person(10**30)", "api.person: id — число от 1 до"),
        ("api.person(-5)", "api.person: id — число от 1 до"),
        ("api.person('7')", "api.person: id — целое число"),
        ("api.persons('я' * 100000)", "api.persons: текст поиска длиннее 300 символов"),
        ("api.persons('a\\x00b')", "символ NUL"),
        ("api.create_task('Срок', deadline='9999-12-31T23:59')", "год от 2000 до 2999"),
        ("api.create_task('Срок', deadline='завтра')", "срок «завтра» не понят"),
        ("api.create_task('Кому', performer=10**30)", "исполнитель — число от 1 до"),
        ("api.create_task('Важно', important='да')", "important — True или False"),
        ("api.create_task('x' * 501)", "название длиннее 500 символов"),
        ("api.start_process('Согласование договора', 'д' * 10001)", "описание длиннее 10000 символов"),
        ("d = {}\nfor i in range(19):\n    d = {'x': d}\napi.store('Глубина', {'x': [d]})", "вложенность данных"),
        ("api.store('Число', {'x': 10**30})", "целые числа в записи"),
        ("api.store('Дробь', {'x': float('nan')})", "бесконечное или неопределённое"),
        ("api.store('a\\x00', {})", "имя коллекции: текст содержит символ NUL"),
        ("api.store('Общая', {}, shared='да')", "shared — True или False"),
        ("api.records('к' * 200)", "имя коллекции длиннее 128 символов"),
    ],
)
def test_absurd_api_arguments_are_refused_in_russian_before_the_database(app: App, call: str, words: str) -> None:
    petrova, _ = seed(app, SCENARIOS, PEOPLE)
    body = call.replace("\n", "\n    ")
    code = f"try:\n    {body}\n    _Результат = 'принято'\nexcept ApiError as error:\n    _Результат = str(error)"
    with app.open_session() as session:
        add_algorithm(session, AlgorithmCreate(name="Абсурд", code=code))
        session.commit()
    assert words in str(app.algorithms.run("Абсурд", petrova))
    with app.read_session() as session:
        assert session.exec(select(Task)).all() == [] and session.exec(select(CollectionRecord)).all() == []


def test_collections_belong_to_their_bot_unless_declared_shared(app: App) -> None:
    code = """
api.store('Визиты', {'кто': _ДанныеДляОбработки})
api.store('Справочник', {'кто': _ДанныеДляОбработки}, shared=True)
_Результат = [
    ','.join(r['data']['кто'] for r in api.records('Визиты')),
    ','.join(r['data']['кто'] for r in api.records('Справочник', shared=True)),
    len(api.records('Справочник')),
]
"""
    with app.open_session() as session:
        add_algorithm(session, AlgorithmCreate(name="Учёт", code=code))
        session.commit()
    assert app.algorithms.run("Учёт", None, "а1", bot="Бот А") == ["а1", "а1", 0]
    assert app.algorithms.run("Учёт", None, "б1", bot="Бот Б") == ["б1", "а1,б1", 0]
    assert app.algorithms.run("Учёт", None, "а2", bot="Бот А") == ["а1,а2", "а1,б1,а2", 0]
    # outside any bot (the console, integrations) an algorithm works with the shared collections
    assert app.algorithms.run("Учёт", None, "к1") == ["к1", "а1,б1,а2,к1", 4]
    with app.read_session() as session:
        owners = {(r.collection, r.bot) for r in session.exec(select(CollectionRecord))}
    assert owners == {("Визиты", "Бот А"), ("Визиты", "Бот Б"), ("Визиты", None), ("Справочник", None)}


def test_curated_modules_and_own_classes_serve_ordinary_code(runner: AlgorithmRunner) -> None:
    code = """
from collections import Counter, namedtuple
from decimal import Decimal, localcontext
from functools import reduce
import random, math, string

class Корзина:
    def __init__(self, товары):
        self.товары = товары
        setattr(self, 'итог', reduce(lambda a, b: a + b, товары))

счёт = Counter('абба')
счёт['в'] = счёт['в'] + 1
Точка = namedtuple('Точка', 'x y')
with localcontext(prec=3):
    треть = str(Decimal(1) / Decimal(3))
_Результат = [
    Корзина([1, 2, 3]).итог,
    счёт['б'] + счёт['в'],
    Точка(1, 2).y,
    треть,
    random.Random(1).randint(1, 100) == random.Random(1).randint(1, 100),
    math.isqrt(17),
    string.digits[:3],
]
"""
    assert _run(runner, code) == [6, 3, 2, "0.333", True, 4, "012"]

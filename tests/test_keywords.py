"""The keyword directory as designers load it and as the bot walks it: file checks, storage, the dialog engine."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from algorithms.models import Algorithm
from keywords.dialog import AlgorithmValue, ChoiceState, Outcome
from keywords.engine import KeywordEngine
from keywords.errors import KeywordFileError, StateError
from keywords.file import KeywordFile, parse_keyword_file
from keywords.matching import KeywordTree, normalise
from keywords.store import export_yaml, load_tree, replace_tree, revision, spec_tree
from processes.errors import ProcessError
from signal_ext.bootstrap import App
from signal_ext.bots.directory import add_bot
from signal_ext.bots.models import BotCreate
from signal_ext.bots.texts import BotTexts
from tests.conftest import CliRun

DEMO = Path(__file__).parent.parent / "signal_ext" / "demo" / "keywords.yaml"
ALGORITHMS = {"Алгоритм для чат-бота", "Обработка выбора", "Свободные даты", "Новый визит"}
TEXTS = BotTexts()


def _known(name: str) -> bool:
    return name in ALGORITHMS


def _demo() -> KeywordFile:
    return parse_keyword_file(DEMO.read_text(encoding="utf-8"), _known, "keywords.yaml")


class Runner:
    """Stands in for the isolated algorithm runner: records calls, answers from a table."""

    def __init__(self, answers: dict[str, AlgorithmValue | ProcessError]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, list[dict[str, str]]]] = []

    def __call__(self, name: str, data: list[dict[str, str]]) -> AlgorithmValue:
        self.calls.append((name, data))
        answer = self.answers[name]
        if isinstance(answer, ProcessError):
            raise answer
        return answer


def _engine(runner: Runner | None = None, tree: KeywordTree | None = None) -> KeywordEngine:
    return KeywordEngine(tree or spec_tree(_demo().keywords), runner or Runner({}), TEXTS)


def _say(engine: KeywordEngine, text: str, state: ChoiceState | None = None) -> Outcome:
    outcome = engine.handle(text, state)
    assert outcome is not None, text
    return outcome


def test_normalisation_ignores_case_and_every_space() -> None:
    assert normalise("А1") == normalise("а 1") == normalise(" а\t1\n")
    assert normalise(" РАСЧЁТ ") == "расчёт"
    engine = _engine(Runner({"Алгоритм для чат-бота": 6.0}))
    assert _say(engine, "  рас чёт ").replies[0].text == "6"


BAD_FILES = [
    (
        "keywords:\n - words: Выбор\n   kind: choice\n   choices:\n    - words: Вариант №1\n      kind: text\n"
        "      answer: a\n    - words: Вариант №2\n      kind: ответ\n",
        "строка 9: «Выбор» → «Вариант №2»: kind: неизвестный вид «ответ»",
    ),
    ("keywords:\n - words: Привет\n   kind: text\n   answer: a\n   color: red\n", "строка 5: «Привет»: color: неиз"),
    ("keywords:\n - words: Привет\n   kind: Текстовый ответ\n", "«Привет»: у текстового ответа должен быть answer"),
    ("keywords:\n - words: Расчёт\n   kind: algorithm\n", "«Расчёт»: у выполнения алгоритма должен быть algorithm"),
    ("keywords:\n - words: Ещё\n   kind: Ключевое слово\n", "«Ещё»: у ключевого слова должен быть target"),
    ("keywords:\n - words: Выбор\n   kind: choice\n   title: t\n", "строка 2: «Выбор»: у выбора нет вариантов"),
    ("keywords:\n - words: Привет\n   kind: text\n   answer: a\n   choices: []\n", "поле choices не используется"),
    (
        "keywords:\n - words: Запись\n   kind: choice\n   algorithm: Свободные даты\n   choices:\n"
        "    - {words: a, kind: text, answer: a}\n    - {words: b, kind: text, answer: b}\n",
        "«Запись»: у выбора из алгоритма должен быть ровно один вариант в choices — он обработает выбор (сейчас 2)",
    ),
    (
        "keywords:\n - words: Выбор\n   kind: choice\n   choices:\n    - {words: Вариант 1, kind: text, answer: a}\n"
        "    - {words: 'x, вариант1', kind: text, answer: b}\n",
        "строка 6: «Выбор» → «x»: слово «вариант1» уже есть у «Вариант 1»",
    ),
    (
        "keywords:\n - words: Меню2\n   kind: keyword\n   target: Нет такого\n",
        "строка 2: «Меню2»: target: ключевое слово «Нет такого» не найдено среди записей верхнего уровня",
    ),
    (
        "keywords:\n - {words: A, kind: keyword, target: b}\n - {words: B, kind: keyword, target: a}\n",
        "строка 2: «A»: ключевые слова ссылаются друг на друга по кругу: «A» → «B» → «A»",
    ),
    (
        "keywords:\n - {words: Ok, kind: text, answer: a}\n - {words: Расчёт, kind: algorithm, algorithm: Нет}\n",
        "строка 3: «Расчёт»: алгоритм «Нет» не найден",
    ),
    ("keywords:\n - words: [a\n", "ошибка YAML"),
    ("scenarios: []\n", "ожидается словарь с ключом keywords"),
]


@pytest.mark.parametrize(("text", "expected"), BAD_FILES)
def test_a_bad_file_is_refused_naming_the_record_and_line(text: str, expected: str) -> None:
    with pytest.raises(KeywordFileError) as caught:
        parse_keyword_file(text, _known, "bot.yaml")
    assert caught.value.message.startswith("bot.yaml")
    assert expected in caught.value.message, caught.value.message


def test_the_demo_loads_with_russian_kinds_and_deleted_records_are_not_checked() -> None:
    document = _demo()
    assert [spec.words for spec in document.keywords][:3] == ["Привет, Здравствуйте", "Расчёт, Расчет", "Выбор"]
    text = (
        "keywords:\n - {words: Выбор, kind: Выбор, choices: [{words: Да, kind: Текстовый ответ, answer: ok}]}\n"
        " - {words: выбор, kind: text, answer: old, deleted: true}\n"
        " - {words: Старое, kind: Ключевое слово, target: Нет такого, deleted: true}\n"
    )
    assert parse_keyword_file(text, _known).count() == (4, 2)


def test_text_algorithm_and_unknown_words() -> None:
    runner = Runner({"Алгоритм для чат-бота": "Остаток: 10 шт."})
    engine = _engine(runner)
    hello = _say(engine, "привет")
    assert hello.replies[0].text.startswith("Здравствуйте!") and hello.state is None
    assert _say(engine, "Расчет").replies[0].text == "Остаток: 10 шт."
    assert runner.calls == [("Алгоритм для чат-бота", [])]
    assert engine.handle("Пока", None) is None


def test_nested_choice_with_confirmation_hands_the_history_to_the_algorithm() -> None:
    runner = Runner({"Обработка выбора": "Итог: Вариант №2 / 2.1"})
    engine = _engine(runner)
    offered = _say(engine, "выбор")
    assert offered.replies[0].text == "Выберите один из вариантов"
    assert offered.replies[0].buttons == ("Вариант №1", "Вариант №2", "Вариант №3")
    asked = _say(engine, "Вариант №2", offered.state)
    assert asked.replies[0].text == "Вы выбрали «Вариант №2». Верно?"
    assert asked.replies[0].buttons == ("Да", "Нет")
    nested = _say(engine, "да", asked.state)
    assert nested.replies[0].buttons == ("Вариант 2.1 (Алгоритм)", "Вариант 2.2", "Вариант 2.3")
    assert nested.replies[0].text == "Выберите вариант:"
    done = _say(engine, "вариант 2.1 (алгоритм)", nested.state)
    assert done.replies[0].text == "Итог: Вариант №2 / 2.1" and done.state is None
    assert runner.calls == [
        (
            "Обработка выбора",
            [
                {"keyword": "Выбор", "choice": "Вариант №2"},
                {"keyword": "Вариант №2", "choice": "Вариант 2.1 (Алгоритм)"},
            ],
        )
    ]


def test_no_re_offers_the_choice_and_an_alias_re_offers_the_first_choice() -> None:
    engine = _engine()
    offered = _say(engine, "Выбор")
    asked = _say(engine, "Вариант №1", offered.state)
    again = _say(engine, "Нет", asked.state)
    assert again.replies[0].buttons == offered.replies[0].buttons and again.state == offered.state
    asked = _say(engine, "Вариант №1", again.state)
    assert _say(engine, "Да", asked.state).replies[0].text == 'Выбрали "Вариант №1"'
    asked = _say(engine, "Вариант №3", offered.state)
    recursed = _say(engine, "Да", asked.state)
    assert recursed.replies[0].text == "Выберите один из вариантов"
    assert recursed.state is not None and offered.state is not None
    assert recursed.state.history == () and recursed.state.node_id == offered.state.node_id


def test_another_message_drops_the_open_choice() -> None:
    engine = _engine()
    offered = _say(engine, "Выбор")
    assert offered.state is not None
    assert engine.answer_open_choice("Привет", offered.state) is None
    hello = _say(engine, "Привет", offered.state)
    assert hello.replies[0].text.startswith("Здравствуйте!") and hello.state is None
    assert engine.handle("Вариант 2.2", offered.state) is None  # an option of another choice is not an answer


def test_dynamic_choice_offers_the_algorithm_list_and_the_child_gets_the_pick() -> None:
    runner = Runner({"Свободные даты": ["12.03 10:00", "13.03 11:30", ""], "Новый визит": "Вы записаны на 13.03"})
    engine = _engine(runner)
    offered = _say(engine, "запись")
    assert offered.replies[0].text == "Выберите дату приёма"
    assert offered.replies[0].buttons == ("12.03 10:00", "13.03 11:30")
    assert engine.handle("14.03 09:00", offered.state) is None
    booked = _say(engine, "13.03 11:30", offered.state)
    assert booked.replies[0].text == "Вы записаны на 13.03" and booked.state is None
    assert runner.calls[-1] == ("Новый визит", [{"keyword": "Запись на приём", "choice": "13.03 11:30"}])
    runner.answers["Свободные даты"] = []
    empty = _say(engine, "Запись")
    assert empty.replies[0].text == "Готово." and empty.state is None


def test_algorithm_values_and_failures() -> None:
    runner = Runner({"Алгоритм для чат-бота": True})
    engine = _engine(runner)
    assert _say(engine, "Расчёт").replies[0].text == "Да"
    runner.answers["Алгоритм для чат-бота"] = 2.5
    assert _say(engine, "Расчёт").replies[0].text == "2.5"
    runner.answers["Алгоритм для чат-бота"] = ["Выбор", "Привет"]
    listed = _say(engine, "Расчёт")
    assert listed.replies[0].buttons == ("Выбор", "Привет") and listed.state is None
    failure = ProcessError("Алгоритм «Алгоритм для чат-бота»: деление на ноль")
    runner.answers["Алгоритм для чат-бота"] = failure
    failed = _say(engine, "Расчёт")
    assert failed.replies[0].text.startswith("⚠️ Не удалось выполнить запрос") and failed.error is failure
    stopped = ProcessError("превышено время")
    stopped.limit = "time"  # type: ignore[attr-defined]  # the runner's «stopped» errors carry the limit
    runner.answers["Алгоритм для чат-бота"] = stopped
    assert "остановлен" in _say(engine, "Расчёт").replies[0].text


def test_deleted_records_are_ignored() -> None:
    text = (
        "keywords:\n - words: Выбор\n   kind: choice\n   choices:\n    - {words: Один, kind: text, answer: 1}\n"
        "    - {words: Два, kind: text, answer: 2, deleted: true}\n"
        " - {words: Старое, kind: text, answer: old, deleted: true}\n"
    )
    engine = _engine(tree=spec_tree(parse_keyword_file(text, _known).keywords))
    offered = _say(engine, "Выбор")
    assert offered.replies[0].buttons == ("Один",)
    assert engine.handle("Два", offered.state) is None
    assert engine.handle("Старое", None) is None


def test_an_alias_loop_that_slipped_past_the_file_check_is_stopped() -> None:
    looped = KeywordFile.model_validate(
        {"keywords": [{"words": w, "kind": "keyword", "target": t} for w, t in (("A", "B"), ("B", "A"))]}
    )
    outcome = _say(_engine(tree=spec_tree(looped.keywords)), "a")
    assert outcome.replies[0].text.startswith("⚠️ Ответ на этот запрос настроен с ошибкой")
    assert outcome.error is not None and "слишком много переходов" in outcome.error.message


def test_state_survives_json_and_garbage_is_refused() -> None:
    offered = _say(_engine(), "Выбор")
    assert offered.state is not None
    restored = ChoiceState.from_dict(json.loads(json.dumps(offered.state.to_dict())))
    assert restored == offered.state
    assert _say(_engine(), "Вариант №1", restored).replies[0].buttons == ("Да", "Нет")
    with pytest.raises(StateError, match="не читается"):
        ChoiceState.from_dict({"node_id": "x"})


def test_lookup_stays_fast_on_ten_thousand_records() -> None:
    records = [{"words": f"Слово {i}, w{i}", "kind": "text", "answer": str(i)} for i in range(10_000)]
    engine = _engine(tree=spec_tree(KeywordFile.model_validate({"keywords": records}).keywords))
    timings = []
    for i in range(0, 10_000, 7):
        start = time.perf_counter()
        outcome = engine.handle(f" слово{i} ", None)
        timings.append(time.perf_counter() - start)
        assert outcome is not None and outcome.replies[0].text == str(i)
    timings.sort()
    assert timings[int(len(timings) * 0.99)] < 0.001


# --- storage and the command line, on SQLite and PostgreSQL ---


def _bot_with_algorithms(app: App) -> int:
    with app.open_session() as session:
        bot = add_bot(session, BotCreate(name="shop"))
        session.add_all(Algorithm(name=name, code="_Результат = 1") for name in sorted(ALGORITHMS))
        session.commit()
        assert bot.id is not None
        return bot.id


def test_replace_export_and_revision(app: App) -> None:
    bot_id = _bot_with_algorithms(app)
    document = _demo()
    with app.open_session() as session:
        assert replace_tree(session, bot_id, document.keywords) == 11
        session.commit()
    with app.read_session() as session:
        first = load_tree(session, bot_id)
        exported = export_yaml(session, bot_id)
    assert parse_keyword_file(exported, _known) == document
    with app.open_session() as session:
        replace_tree(session, bot_id, parse_keyword_file(exported, _known).keywords)
        session.commit()
    with app.read_session() as session:
        second = load_tree(session, bot_id)
        assert export_yaml(session, bot_id) == exported
    assert len(second) == len(first) == 11 and second.revision != first.revision
    with app.read_session() as session:
        assert revision(session, bot_id) == second.revision
    offered = _say(_engine(tree=first), "Выбор")
    stale = _engine(tree=second)
    expired = _say(stale, "Вариант №1", offered.state)
    assert expired.replies[0].text == "Этот выбор уже неактуален. Отправьте запрос ещё раз." and expired.state is None
    assert _say(stale, "Выбор", offered.state).replies[0].buttons == offered.replies[0].buttons


def _refused(cli: CliRun, *args: str) -> str:
    result = cli(*args)
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_cli_load_tree_export_and_a_bad_file_changes_nothing(app: App, cli: CliRun, tmp_path: Path) -> None:
    _bot_with_algorithms(app)
    loaded = cli("keywords", "load", "shop", str(DEMO))
    assert loaded.exit_code == 0, loaded.output
    assert "записей 11 (верхнего уровня 4)" in loaded.stdout
    tree = cli("keywords", "tree", "shop").stdout
    assert "Выбор — Выбор («Выберите один из вариантов», с подтверждением)\n  Вариант №1 — Текстовый ответ" in tree
    assert "    Вариант 2.1 (Алгоритм) — Выполнение алгоритма «Обработка выбора»" in tree
    assert "  Вариант №3 — Ключевое слово → «Выбор»" in tree
    before = cli("keywords", "export", "shop").stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text(before.replace("algorithm: Новый визит", "algorithm: Старый визит"), encoding="utf-8")
    message = _refused(cli, "keywords", "load", "shop", str(bad))
    assert "строка 36: «Запись на приём» → «Дата приёма»: алгоритм «Старый визит» не найден" in message
    assert cli("keywords", "export", "shop").stdout == before
    out = tmp_path / "out.yaml"
    assert cli("keywords", "export", "shop", "--output", str(out)).exit_code == 0
    assert out.read_text(encoding="utf-8") == before
    old = 'keywords:\n - {words: Старое, kind: text, answer: "old\\n\\nline 3", deleted: true}\n'
    bad.write_text(old, encoding="utf-8")
    assert "помечено на удаление 1" in cli("keywords", "load", "1", str(bad)).stdout
    assert cli("keywords", "tree", "shop").stdout == "Старое — Текстовый ответ: old line 3  [помечено на удаление]\n"
    assert "  answer: |-\n    old\n\n    line 3\n  deleted: true\n" in cli("keywords", "export", "shop").stdout
    assert _refused(cli, "keywords", "tree", "nobody") == "Error: Не найдено: чат-бот «nobody»"
    assert "не удалось прочитать файл" in _refused(cli, "keywords", "load", "shop", str(tmp_path / "none.yaml"))

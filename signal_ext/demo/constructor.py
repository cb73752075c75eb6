"""The demo's constructor bot: the seed's keyword examples (keywords.yaml) and the algorithms they name.

Loading again brings the bot, its algorithms and its keywords back to what this module says (an open choice
in a chat then expires, as after any reload of keywords)."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session

from algorithms.directory import add_algorithm, list_algorithms, name_key, update_algorithm
from algorithms.models import AlgorithmCreate
from keywords.file import read_keyword_file
from keywords.store import replace_tree
from signal_ext.bots.directory import add_bot, list_bots
from signal_ext.bots.models import Bot, BotCreate
from signal_ext.registrations import set_auth

DEMO_BOT = "helper"
KEYWORDS_FILE = Path(__file__).parent / "keywords.yaml"
DESCRIPTION = "Бот-конструктор: ключевые слова и алгоритмы"
UNKNOWN_ANSWER = (
    "Не понимаю запрос. Напишите «Привет», «Выбор», «Расчёт», «Запись на приём», «А1» или выражение, например 2+2*2."
)

CALCULATION = """\
if _Исполнитель is None:
    _Результат = "Расчёт доступен сотрудникам, подключённым к боту."
else:
    задачи = api.my_tasks()
    важных = len([задача for задача in задачи if задача["important"]])
    со_сроком = len([задача for задача in задачи if задача["deadline"]])
    _Результат = (
        f"{_Исполнитель['name']}: активных задач {len(задачи)}, "
        f"из них важных {важных}, со сроком {со_сроком}."
    )
"""

CHOICE_PATH = """\
путь = [_ДанныеДляОбработки[0]["keyword"]] if _ДанныеДляОбработки else []
путь = путь + [шаг["choice"] for шаг in _ДанныеДляОбработки]
_Результат = "Вы прошли путь: " + " → ".join(путь)
"""

FREE_DATES = """\
import datetime

занято = set()
for запись in api.records("Визит клиента"):
    занято.add(запись["data"].get("дата"))
свободные = []
день = datetime.date.today()
while len(свободные) < 5:
    день = день + datetime.timedelta(days=1)
    if день.weekday() >= 5:
        continue
    for час in ("10:00", "15:00"):
        метка = день.strftime("%d.%m.%Y") + " " + час
        if метка not in занято and len(свободные) < 5:
            свободные.append(метка)
_Результат = свободные
"""

NEW_VISIT = """\
дата = _ДанныеДляОбработки[-1]["choice"]
клиент = _Исполнитель["name"] if _Исполнитель else "гость"
номер = api.store("Визит клиента", {"дата": дата, "клиент": клиент})
_Результат = f"Записали вас на {дата}. Номер визита: {номер}."
"""

OPEN_TASKS = """\
if _Исполнитель is None:
    _Результат = "Вы не подключены к боту: задач нет."
else:
    задачи = api.my_tasks()
    строки = ["• " + задача["title"] for задача in задачи[:10]]
    _Результат = "\\n".join([f"Открытых задач: {len(задачи)}"] + строки)
"""

BY_INN = """\
# «Наименование, ИНН» → the counterparty with that ИНН (the article's automatic authorization)
части = [часть.strip() for часть in str(_ДанныеДляОбработки).split(",")]
инн = части[-1] if len(части) > 1 else ""
найдено = [p for p in api.persons(части[0]) if p["inn"] == инн] if инн else []
_Результат = найдено[0]["inn"] if len(найдено) == 1 else None
"""
AUTH_ALGORITHM = "Авторизация по ИНН"
AUTH_RESPONSIBLE = "Иванов Иван Иванович"
AUTH_REQUEST = (
    "Бот отвечает зарегистрированным. Нажмите «Отправить данные для авторизации…» и напишите «Наименование, ИНН» "
    "(например: Ромашка, 7701234567) — или отправьте свой номер телефона."
)

ALGORITHMS = [
    AlgorithmCreate(name=AUTH_ALGORITHM, code=BY_INN),
    AlgorithmCreate(name="Алгоритм для чат-бота", code=CALCULATION),
    AlgorithmCreate(name="Обработка выбора", code=CHOICE_PATH),
    AlgorithmCreate(name="Свободные даты", code=FREE_DATES),
    AlgorithmCreate(name="Новый визит", code=NEW_VISIT),
    AlgorithmCreate(name="Алгоритм1", alias="А1", telegram=True, code=OPEN_TASKS),
]


def load_demo_bot(session: Session) -> Bot:
    """Adds (or brings back) the constructor bot, its algorithms and keywords; safe to run again."""
    bot = next((bot for bot in list_bots(session) if bot.name == DEMO_BOT), None)
    if bot is None:
        data = BotCreate(name=DEMO_BOT, description=DESCRIPTION, allow_code=True, unknown_answer=UNKNOWN_ANSWER)
        bot = add_bot(session, data)
    existing = {name_key(algorithm.name): algorithm for algorithm in list_algorithms(session)}
    for spec in ALGORITHMS:
        found = existing.get(name_key(spec.name))
        if found is None:
            add_algorithm(session, spec)
        else:
            update_algorithm(session, found, code=spec.code, alias=spec.alias or "", telegram=spec.telegram)
    names = [name for algorithm in list_algorithms(session) for name in (algorithm.name, algorithm.alias) if name]
    known = {name_key(name) for name in names}
    document = read_keyword_file(KEYWORDS_FILE, lambda name: name_key(name) in known)
    replace_tree(session, bot.id or 0, document.keywords)
    if not bot.auth_enabled and bot.auth_algorithm is None:  # first load: authorization on, as in the article
        set_auth(session, bot, enabled=True, request_text=AUTH_REQUEST, algorithm=AUTH_ALGORITHM)
        set_auth(session, bot, responsible=AUTH_RESPONSIBLE)
    return bot

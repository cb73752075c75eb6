"""The texts table («Тексты»): every text a bot says, with a Russian default a designer may override per bot.

A text is a template with ``str.format``-style NAMED placeholders (``{key}``, ``{title}``, ``{count}``); each key
declares the placeholders it accepts, and an override may use any of them, none, or repeat them — nothing else.
Message texts are Telegram HTML (sent with ``parse_mode=HTML``: ``<b>``, ``<i>``, ``<u>``, ``<a href>``, …);
button labels are plain text of one line.

:meth:`BotTexts.get` inserts the values AS GIVEN: escaping them for Telegram HTML (``html.escape`` of a task title,
a person's name, a description) is the caller's job, as is using the label of a button it shows as the command
that button sends.

An override is checked by :func:`validate_override` before it is stored, so a designer cannot break the bot: an
unknown key is refused naming the close keys, a placeholder the key does not have is refused naming it, and
so are positional ``{}``, attribute or index access (``{title.upper}``), format specs, unbalanced braces
(write ``{{`` and ``}}`` for literal braces), markup Telegram would reject, empty texts and over-long ones.
A stored override that no longer passes (written around the check, or from an older key set) is ignored:
the default is said instead, and :attr:`BotTexts.invalid` tells why.
"""

from __future__ import annotations

import difflib
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from types import MappingProxyType

from pydantic import BaseModel

from processes.errors import ProcessError, quoted

MESSAGE_LIMIT = 4096
BUTTON_LIMIT = 64

PLACEHOLDERS: Mapping[str, str] = MappingProxyType(
    {
        "bot": "имя бота",
        "description": "описание (бота, процесса или задачи)",
        "key": "ключ чата для привязки к сотруднику",
        "id": "номер задачи или процесса",
        "title": "название задачи или поля данных",
        "author": "автор",
        "performer": "исполнитель",
        "deadline": "срок (ДД.ММ.ГГГГ ЧЧ:ММ)",
        "status": "статус",
        "scenario": "название сценария",
        "process": "название процесса задачи",
        "name": "имя, как его ввёл пользователь, или найденное имя",
        "value": "значение, как его ввёл пользователь",
        "reason": "причина",
        "count": "количество",
        "choice": "выбранный вариант",
        "data": "введённые данные",
        "until": "до какого времени",
        "phone": "номер телефона",
    }
)


@dataclass(frozen=True)
class TextSpec:
    """One row of the texts table: the key, its default, what it is for, the placeholders it accepts.

    ``bot_field`` names the bot's card field that holds this text's override (e.g. «Ответ на неизвестный
    запрос»), instead of a row of ``bot_text``."""

    key: str
    default: str
    description: str
    placeholders: tuple[str, ...] = ()
    button: bool = False
    bot_field: str | None = None


class TextError(ProcessError):
    """An override that cannot be used; ``key`` is the text it was meant for."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def _specs(*specs: TextSpec) -> Mapping[str, TextSpec]:
    return MappingProxyType({spec.key: spec for spec in specs})


def _text(key: str, default: str, description: str, *placeholders: str, bot_field: str | None = None) -> TextSpec:
    return TextSpec(key, default, description, placeholders, bot_field=bot_field)


def _button(key: str, default: str, description: str, *placeholders: str) -> TextSpec:
    return TextSpec(key, default, description, placeholders, button=True)


DEFAULT_TEXTS: Mapping[str, TextSpec] = _specs(
    # /start, the chat key, the menu
    _text(
        "start", "👋 Здравствуйте! Я — чат-бот «{bot}».\n{description}", "Приветствие на /start", "bot", "description"
    ),
    _text(
        "not_authorized",
        "Вы не авторизованы. Ваш ключ: <code>{key}</code>\nСообщите его администратору, чтобы подключиться к боту.",
        "Ответ неавторизованному пользователю, с ключом его чата",
        "key",
    ),
    _text("my_key", "Ваш ключ: <code>{key}</code>", "Ответ на «Мой ключ»", "key"),
    _text("menu_shown", "Меню включено: выберите действие кнопкой внизу.", "Ответ на «Меню»"),
    _text("menu_removed", "Меню скрыто. Чтобы вернуть его, напишите «Меню».", "Ответ на «Без меню»"),
    _button("button_my_tasks", "Мои задачи", "Кнопка меню «Мои задачи»"),
    _button("button_new_task", "Новая задача", "Кнопка меню «Новая задача»"),
    _button("button_new_process", "Новый процесс", "Кнопка меню «Новый процесс»"),
    # «Новая задача»
    _text(
        "new_task_prompt",
        "Введите данные новой задачи в формате [Описание], [Исполнитель], [Срок], [Важная].\n"
        "Срок: 06.02 14:00, 06.02.21 14:00, 06.02.2021 14:00, 6.2 14:00, 6.2 или число дней от сегодня "
        "(«завтра», «через 3 дня» тоже подойдут). Без исполнителя задача будет вашей.",
        "Запрос данных новой задачи (с подсказкой о форматах срока)",
    ),
    _text(
        "task_created",
        "✅ Создана задача № {id} «{title}»\nИсполнитель: {performer}\nСрок: {deadline}",
        "Задача создана (ответ автору)",
        "id",
        "title",
        "performer",
        "deadline",
    ),
    _text(
        "task_assigned",
        "📌 Вам поставлена новая задача № {id} «{title}»\nАвтор: {author}\nСрок: {deadline}",
        "Уведомление исполнителю о задаче, созданной в боте",
        "id",
        "title",
        "author",
        "deadline",
    ),
    _text(
        "new_task_invalid",
        "Не удалось создать задачу: {reason}\nФормат: [Описание], [Исполнитель], [Срок], [Важная]",
        "Данные новой задачи не разобраны",
        "reason",
    ),
    _text(
        "performer_not_found",
        "Исполнитель «{name}» не найден. Проверьте фамилию или имя.",
        "Исполнитель новой задачи не найден",
        "name",
    ),
    _text(
        "performer_ambiguous",
        "Уточните исполнителя «{name}»: подходят несколько сотрудников.",
        "Исполнитель неоднозначен: к тексту прилагаются кнопки с подходящими",
        "name",
    ),
    _text(
        "deadline_invalid",
        "Не удалось понять срок «{value}». Примеры: 06.02 14:00, 6.2, 3.",
        "Срок новой задачи не разобран",
        "value",
    ),
    _text(
        "deadline_in_past",
        "Срок {deadline} уже прошёл. Укажите срок в будущем.",
        "Срок новой задачи в прошлом",
        "deadline",
    ),
    # «Новый процесс»
    _text("choose_scenario", "Выберите сценарий нового процесса:", "Выбор сценария (к тексту — кнопки)"),
    _text("no_scenarios", "Нет сценариев, по которым можно запустить процесс.", "Сценариев нет"),
    _text(
        "process_description_prompt",
        "Введите описание процесса «{scenario}»:",
        "Запрос описания нового процесса",
        "scenario",
    ),
    _text(
        "process_started",
        "🚀 Создан и запущен новый процесс № {id} «{scenario}»\n{description}",
        "Процесс создан и запущен",
        "id",
        "scenario",
        "description",
    ),
    _text(
        "process_created",
        "Создан новый процесс № {id} «{scenario}»\n{description}\nОн будет запущен вручную.",
        "Процесс только создан (сценарий с ручным стартом)",
        "id",
        "scenario",
        "description",
    ),
    # «Мои задачи» and a task
    _text("my_tasks_header", "Ваши задачи ({count}):", "Заголовок списка задач (к тексту — кнопки задач)", "count"),
    _text("my_tasks_empty", "У вас нет открытых задач. 🎉", "Список задач пуст"),
    _text(
        "task_details",
        "<b>{title}</b>\n{description}\nПроцесс: {process}\nАвтор: {author}\nСрок: {deadline}\nСтатус: {status}",
        "Подробности задачи («Подробнее…»)",
        "id",
        "title",
        "description",
        "process",
        "author",
        "performer",
        "deadline",
        "status",
    ),
    _button("button_details", "Подробнее…", "Кнопка задачи «Подробнее…»"),
    _button("button_complete", "Выполнена", "Кнопка задачи «Выполнена»"),
    _button("button_attachments", "Вложения ({count})", "Кнопка задачи «Вложения (N)»", "count"),
    _button("button_acknowledge", "Ознакомлен", "Кнопка «Ознакомлен» под уведомлением о задаче"),
    _text("ask_comment", "Введите комментарий к задаче «{title}»:", "Запрос комментария перед выполнением", "title"),
    _text("task_completed", "✅ Задача № {id} «{title}» выполнена.", "Задача выполнена", "id", "title"),
    _text(
        "task_needs_data",
        "Для выполнения задачи нужно заполнить данные: {count}. Ответьте на вопросы по порядку.",
        "Задача требует данных перед выполнением",
        "title",
        "count",
    ),
    _text("ask_field", "Введите «{title}»:", "Запрос значения поля данных", "title"),
    _text(
        "field_invalid",
        "«{title}»: {reason}. Попробуйте ещё раз.",
        "Значение поля не подходит по типу",
        "title",
        "value",
        "reason",
    ),
    _text("choose_value", "Выберите «{title}»:", "Выбор значения поля из списка (к тексту — кнопки)", "title"),
    _text(
        "task_already_completed",
        "Задача № {id} «{title}» уже в статусе «{status}»; ничего не изменено.",
        "Задача уже выполнена или отменена",
        "id",
        "title",
        "status",
    ),
    _text(
        "task_not_available",
        "Эта задача вам недоступна: кнопка устарела или задача назначена другому.",
        "Чужая задача или устаревшая кнопка",
    ),
    _text(
        "acknowledged",
        "👌 Отмечено: вы ознакомились с задачей «{title}».",
        "Ответ на «Ознакомлен»",
        "title",
    ),
    # keywords, dialogs, errors
    _text(
        "unknown_request",
        "Не понимаю запрос. Напишите «Меню», чтобы увидеть команды.",
        "Ответ на неизвестный запрос (поле карточки бота)",
        bot_field="unknown_answer",
    ),
    _text("choice_confirm", "Вы выбрали «{choice}». Верно?", "Подтверждение выбора варианта", "choice"),
    _button("button_yes", "Да", "Кнопка подтверждения"),
    _button("button_no", "Нет", "Кнопка отказа"),
    _button("button_cancel", "Отмена", "Кнопка отмены текущего действия"),
    _text(
        "keyword_choose", "Выберите вариант:", "Заголовок выбора, если у записи «Выбор» он не задан (к тексту — кнопки)"
    ),
    _text(
        "choice_expired",
        "Этот выбор уже неактуален. Отправьте запрос ещё раз.",
        "Нажата кнопка выбора, который больше не открыт (ключевые слова перезагружены)",
    ),
    _text(
        "keyword_broken",
        "⚠️ Ответ на этот запрос настроен с ошибкой. Сообщите администратору чат-бота.",
        "Ключевое слово ведёт по кругу или на несуществующее слово",
    ),
    _text("algorithm_done", "Готово.", "Алгоритм выполнен, но ничего не вернул"),
    _text("algorithm_buttons", "Выберите:", "Алгоритм вернул список (к тексту — кнопки)"),
    _text(
        "algorithm_failed",
        "⚠️ Не удалось выполнить запрос. Попробуйте позже или сообщите администратору.",
        "Алгоритм завершился ошибкой ({reason} — её описание)",
        "reason",
    ),
    _text(
        "algorithm_stopped",
        "⚠️ Запрос выполнялся слишком долго и был остановлен. Попробуйте позже.",
        "Алгоритм остановлен: превышен лимит времени или памяти ({reason} — какой)",
        "reason",
    ),
    _text(
        "expression_refused",
        "Не удалось вычислить «{value}»: {reason}",
        "Выражение (режим программного кода) не вычислено",
        "value",
        "reason",
    ),
    _text("cancelled", "Действие отменено.", "Текущее действие отменено"),
    _text("error", "⚠️ Произошла ошибка. Попробуйте ещё раз позже.", "Внутренняя ошибка при обработке сообщения"),
    # authorization
    _text(
        "auth_request",
        "Чтобы пользоваться ботом, нужно авторизоваться: нажмите кнопку и отправьте свои данные.",
        "Запрос авторизации (поле карточки бота)",
        bot_field="auth_request_text",
    ),
    _button("button_send_auth_data", "Отправить данные для авторизации…", "Кнопка отправки данных авторизации"),
    _text("auth_enter_data", "Введите данные для авторизации:", "Запрос данных авторизации"),
    _text("auth_confirm", "Данные верны?\n{data}", "Подтверждение данных авторизации", "data"),
    _text(
        "auth_pending",
        "Данные отправлены на проверку. Мы сообщим, когда она закончится.",
        "Данные переданы на проверку",
    ),
    _text("auth_success", "✅ Вы авторизованы как {name}. Добро пожаловать!", "Авторизация выполнена", "name"),
    _text("auth_rejected", "В авторизации отказано: {reason}", "Авторизация отклонена", "reason"),
    _text(
        "auth_error",
        "Не удалось выполнить авторизацию. Обратитесь к администратору.",
        "Ошибка авторизации (ни один способ не подошёл)",
    ),
    _text(
        "auth_already_pending",
        "Ваша заявка на авторизацию уже на проверке. Мы сообщим, когда она закончится.",
        "Новая заявка не принята: прежняя ещё на проверке",
    ),
    _text(
        "auth_too_many",
        "Слишком много заявок: не больше {count} в час. Попробуйте позже.",
        "Новая заявка не принята: превышен часовой лимит заявок",
        "count",
    ),
    _text(
        "auth_review",
        "📝 Заявка на авторизацию № {id}\nЧат-бот: {bot}\nЗаявитель: {name}\nТелефон: {phone}\nДанные:\n{data}",
        "Заявка на авторизацию ответственному (системный бот и «Входящие»)",
        "id",
        "bot",
        "name",
        "phone",
        "data",
    ),
    _button("button_share_phone", "Отправить номер телефона", "Кнопка отправки контакта для привязки по телефону"),
    _text(
        "phone_not_own",
        "Это не ваш номер: поделитесь своим контактом кнопкой внизу.",
        "Прислан чужой контакт (засчитывается только свой номер)",
    ),
    _text(
        "phone_not_found",
        "Номер {phone} не найден в справочнике. Обратитесь к администратору.",
        "Номер из контакта не найден",
        "phone",
    ),
    # the responsible person's decision on a registration request (system bot)
    _text("reg_choose_kind", "Заявка № {id}: зарегистрировать как…", "Выбор вида регистрации (кнопки)", "id"),
    _button("button_kind_user", "Пользователь", "Кнопка вида регистрации «Пользователь»"),
    _button("button_kind_partner", "Партнёр", "Кнопка вида регистрации «Партнёр»"),
    _button("button_kind_counterparty", "Контрагент", "Кнопка вида регистрации «Контрагент»"),
    _text(
        "reg_ask_name",
        "Заявка № {id}, {title}: напишите часть имени, чтобы найти в справочнике, или полное имя нового.",
        "Запрос имени при регистрации ({title} — вид)",
        "id",
        "title",
    ),
    _text(
        "reg_pick_person",
        "Заявка № {id}: выберите найденного ({count}) или создайте нового «{name}».",
        "Найденные по имени (к тексту — кнопки)",
        "id",
        "count",
        "name",
    ),
    _button("button_reg_new", "Создать «{name}»", "Кнопка «создать нового» при регистрации", "name"),
    _text("reg_done", "✅ Заявка № {id}: зарегистрирован(а) {name}.", "Заявка одобрена", "id", "name"),
    _text("reg_ask_reason", "Заявка № {id}: напишите причину отказа.", "Запрос причины отказа", "id"),
    _text("reg_rejected_done", "Заявка № {id} отклонена.", "Заявка отклонена", "id"),
    _text(
        "reg_not_available",
        "Эта заявка вам недоступна или уже рассмотрена.",
        "Нажатие на чужую, рассмотренную или устаревшую заявку",
    ),
    # pause, block
    _text(
        "paused",
        "🔕 Уведомления приостановлены до {until}. Важные сообщения будут приходить и сейчас.",
        "Уведомления приостановлены",
        "until",
    ),
    _text("resumed", "🔔 Уведомления снова включены.", "Уведомления возобновлены"),
    _text(
        "pause_ask",
        "До какого времени не беспокоить? Напишите, например: «2 часа», «30 минут», «до 18:00», «до завтра 9:00».",
        "Вопрос о сроке паузы («Пауза» без времени)",
    ),
    _text(
        "pause_time_error",
        "{reason}\nНапишите, например: «Не беспокоить 2 часа» или «Не беспокоить до 25.12 10:00».",
        "Срок паузы не понят или уже прошёл ({reason} — что не так)",
        "reason",
    ),
    _text(
        "blocked",
        "⛔ Доступ к боту закрыт. Причина: {reason}\nОбратитесь к администратору.",
        "Пользователь заблокирован ({reason} — причина блокировки)",
        "reason",
    ),
    _text("unblocked", "✅ Доступ к боту снова открыт.", "Пользователь разблокирован"),
    _text(
        "deauthorized",
        "Ваша учётная запись удалена: этот чат больше не связан с ней.",
        "Учётная запись удалена (говорится один раз, на следующее сообщение чата)",
    ),
)

_ALLOWED_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "span", "tg-spoiler"}
    | {"tg-emoji", "blockquote"}
)
_ALLOWED_ENTITIES = frozenset({"lt", "gt", "amp", "quot"})
_FORMATTER = string.Formatter()


def spec_of(key: str) -> TextSpec:
    """The spec of ``key``; an unknown key is a :class:`TextError` naming the close keys."""
    spec = DEFAULT_TEXTS.get(key)
    if spec is None:
        raise TextError(
            key, f"Нет текста {quoted(key)}{_suggest(key, DEFAULT_TEXTS)}; список: signal-ext bot texts BOT"
        )
    return spec


def validate_override(key: str, value: str) -> None:
    """Refuses (:class:`TextError`) an override of ``key`` the bot could not say; returns when it can."""
    spec = spec_of(key)
    problem = template_problem(spec, value)
    if problem is not None:
        raise TextError(key, f"Текст «{key}»: {problem}")


def template_problem(spec: TextSpec, value: str) -> str | None:
    """Why ``value`` cannot be the text of ``spec`` (one Russian phrase), or None when it can."""
    if not value.strip():
        return "текст не может быть пустым"
    limit = BUTTON_LIMIT if spec.button else MESSAGE_LIMIT
    if len(value) > limit:
        return f"не длиннее {limit} символов (сейчас {len(value)})"
    if spec.button and ("\n" in value or "\r" in value):
        return "надпись кнопки — одна строка"
    try:
        names = _placeholders(value)
    except ValueError as error:
        return str(error)
    for name in names:
        if name not in spec.placeholders:
            return _unknown_placeholder(spec, name)
    if not spec.button:
        return _markup_problem(_render(value, dict.fromkeys(spec.placeholders, "x")))
    return None


def _placeholders(template: str) -> list[str]:
    """The placeholder names ``template`` uses, in order; a positional, dotted or formatted one is an error."""
    try:
        parts = list(_FORMATTER.parse(template))
    except ValueError as error:
        raise ValueError("непарная фигурная скобка: чтобы вывести { или }, удвойте её ({{ или }})") from error
    names: list[str] = []
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
        if not name or name.isdigit():
            raise ValueError(f"подстановка {shown} без имени не поддерживается: пишите имя, например {{title}}")
        if not name.isidentifier():
            raise ValueError(f"подстановка {shown}: допустимо только имя, без точек и скобок")
        if conversion or spec:
            raise ValueError(f"подстановка {shown}: форматирование не поддерживается, пишите {{{name}}}")
        names.append(name)
    return names


def _unknown_placeholder(spec: TextSpec, name: str) -> str:
    if not spec.placeholders:
        return f"неизвестная подстановка {{{name}}}: у этого текста подстановок нет (фигурные скобки — {{{{ и }}}})"
    accepted = ", ".join(f"{{{p}}}" for p in spec.placeholders)
    close = difflib.get_close_matches(name, spec.placeholders, n=1)
    hint = f" — может быть, {{{close[0]}}}?" if close else ""
    return f"неизвестная подстановка {{{name}}}{hint}; у этого текста есть {accepted}"


def _suggest(key: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(known), n=3, cutoff=0.5)
    return f" — может быть, {', '.join(close)}?" if close else ""


def _render(template: str, values: Mapping[str, object]) -> str:
    """``template`` with its (already validated) placeholders replaced by ``str`` of the values."""
    pieces: list[str] = []
    for literal, name, _spec, _conversion in _FORMATTER.parse(template):
        pieces.append(literal)
        if name is not None:
            pieces.append(str(values[name]))
    return "".join(pieces)


class _MarkupCheck(HTMLParser):
    """Finds the first thing in a Telegram HTML text that Telegram would reject."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.open: list[str] = []
        self.problem: str | None = None

    def _fail(self, problem: str) -> None:
        if self.problem is None:
            self.problem = problem

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ALLOWED_TAGS:
            self._fail(f"тег <{tag}> Telegram не поддерживает (можно: <b>, <i>, <u>, <s>, <a href>, <code>, <pre>)")
        self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._fail(f"тег <{tag}/> Telegram не поддерживает; перенос строки — просто новая строка")

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self._fail(f"закрывающий тег </{tag}> без открывающего")
            return
        self.open.pop()

    def handle_data(self, data: str) -> None:
        for char, entity in (("<", "&lt;"), (">", "&gt;"), ("&", "&amp;")):
            if char in data:
                self._fail(f"символ {char} вне тега пишите как {entity}")

    def handle_entityref(self, name: str) -> None:
        if name not in _ALLOWED_ENTITIES:
            self._fail(f"&{name}; Telegram не понимает (можно &lt; &gt; &amp; &quot;)")

    def handle_comment(self, data: str) -> None:
        self._fail("комментарии <!-- --> Telegram не поддерживает")

    def handle_decl(self, decl: str) -> None:
        self._fail(f"<!{decl}> Telegram не поддерживает")

    def handle_pi(self, data: str) -> None:
        self._fail(f"<?{data}> Telegram не поддерживает")

    def unknown_decl(self, data: str) -> None:
        self._fail(f"<![{data}]> Telegram не поддерживает")


def _markup_problem(markup: str) -> str | None:
    check = _MarkupCheck()
    check.feed(markup)
    check.close()
    if check.problem is None and check.open:
        check.problem = f"тег <{check.open[-1]}> не закрыт"
    return check.problem


class TextEntry(BaseModel):
    """One row of a bot's texts table as ``bot texts`` shows it."""

    key: str
    value: str
    default: str
    overridden: bool
    description: str
    placeholders: list[str]
    button: bool
    invalid: str | None = None


@dataclass
class BotTexts:
    """The texts one bot says: its valid overrides over the defaults.

    ``overrides`` maps keys to templates (a bot's ``bot_text`` rows and card fields); unknown keys and
    templates that fail :func:`validate_override` are left out of use and reported in :attr:`invalid`."""

    overrides: Mapping[str, str] = field(default_factory=dict)
    invalid: dict[str, str] = field(init=False, default_factory=dict)
    _active: dict[str, str] = field(init=False, default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for key, value in self.overrides.items():
            spec = DEFAULT_TEXTS.get(key)
            problem = "такого текста нет" if spec is None else template_problem(spec, value)
            if problem is None:
                self._active[key] = value
            else:
                self.invalid[key] = problem

    def template(self, key: str) -> str:
        """The template in effect for ``key`` (the override or the default); KeyError for an unknown key."""
        if key not in DEFAULT_TEXTS:
            raise KeyError(f"unknown bot text {key!r}")
        return self._active.get(key, DEFAULT_TEXTS[key].default)

    def is_overridden(self, key: str) -> bool:
        """Whether ``key`` is said with this bot's own (valid) text."""
        return key in self._active

    def get(self, key: str, /, **values: object) -> str:
        """The text ``key`` with ``values`` inserted as given (``str()`` of each; no HTML escaping here).

        ``values`` must name exactly the placeholders the key declares, whichever the template in effect uses,
        so that any valid override renders: a missing or an extra name is a TypeError (a bug of the caller)."""
        template = self.template(key)
        declared = set(DEFAULT_TEXTS[key].placeholders)
        if set(values) != declared:
            missing = ", ".join(sorted(declared - set(values))) or "-"
            extra = ", ".join(sorted(set(values) - declared)) or "-"
            raise TypeError(f"bot text {key!r} takes {sorted(declared)}; missing: {missing}; unexpected: {extra}")
        return _render(template, values)

    def entries(self) -> list[TextEntry]:
        """Every key of the table, in the table's order, with the value in effect."""
        return [
            TextEntry(
                key=key,
                value=self.template(key),
                default=spec.default,
                overridden=self.is_overridden(key),
                description=spec.description,
                placeholders=list(spec.placeholders),
                button=spec.button,
                invalid=self.invalid.get(key),
            )
            for key, spec in DEFAULT_TEXTS.items()
        ]


def _check_defaults() -> None:
    for key, spec in DEFAULT_TEXTS.items():
        problem = template_problem(spec, spec.default)
        if problem is not None:  # pragma: no cover - a broken default is a bug found at import
            raise AssertionError(f"default of bot text {key!r}: {problem}")
        unknown = set(spec.placeholders) - set(PLACEHOLDERS)
        if unknown:  # pragma: no cover
            raise AssertionError(f"bot text {key!r}: placeholders {sorted(unknown)} are not in PLACEHOLDERS")


_check_defaults()

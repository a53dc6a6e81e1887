"""Interface strings in English and Russian, and the reader's language.

One table, one row per string, one column per language (in the order of ``LANGUAGES``), so
both translations of a string are read and reviewed side by side. A row without a column,
with an empty one, or whose languages disagree on the ``{placeholders}`` stops the import:
a string cannot exist in one language only. The language is the session's choice (the
switch in the header), else the user's saved locale, else the browser's preference.
"""
from __future__ import annotations

from string import Formatter

from flask import request, session
from flask_login import current_user

from accounts.errors import shown  # noqa: F401  (how an error message quotes what the user sent)

LANGUAGES = ("en", "ru")

STRINGS: dict[str, tuple[str, str]] = {
    "app": ("Aftercall", "Aftercall"),
    "login": ("Log in", "Войти"),
    "logout": ("Log out", "Выйти"),
    "email": ("E-mail", "Эл. почта"),
    "password": ("Password", "Пароль"),
    "bad_login": ("Wrong e-mail or password, or the account is disabled.",
                  "Неверная почта или пароль, либо учётная запись отключена."),
    "session_expired": ("Your session expired; please log in again.", "Сеанс истёк, войдите снова."),
    "please_login": ("Please log in to see this page.", "Войдите, чтобы открыть эту страницу."),
    "forbidden": ("Your role does not allow this page or action.",
                  "Ваша роль не даёт доступа к этой странице или действию."),
    "csrf_failed": ("The form expired or was not sent from this site; please try again.",
                    "Форма устарела или отправлена не с этого сайта; попробуйте ещё раз."),
    "not_found": ("Not found.", "Не найдено."),
    "language": ("Language", "Язык"),
    "nav_scorecards": ("Scorecards", "Показатели"),
    "nav_calls": ("Calls", "Звонки"),
    "nav_flags": ("Flags", "Отметки"),
    "nav_handle_time": ("Handle time", "Длительность"),
    "nav_periods": ("Periods", "Периоды"),
    "nav_audit": ("Audit log", "Журнал"),
    "nav_users": ("Users", "Пользователи"),
    "nav_agents": ("Agents", "Операторы"),
    "nav_tokens": ("API tokens", "API-токены"),
    "nav_definitions": ("IVR & survey", "IVR и опрос"),
    "filter": ("Show", "Показать"),
    "period": ("Period", "Период"),
    "from": ("From", "С"),
    "to": ("To", "По"),
    "team": ("Team", "Команда"),
    "all_teams": ("All teams", "Все команды"),
    "agent": ("Agent", "Оператор"),
    "all": ("All", "Все"),
    "sla_panel": ("Service (SLA)", "Обслуживание (SLA)"),
    "cx_panel": ("Caller experience", "Опыт клиента"),
    "offered": ("Offered", "Поступило"),
    "answered": ("Answered", "Отвечено"),
    "service_level": ("Service level", "Уровень обслуживания"),
    "within_s": ("answered within {s} s", "отвечено за {s} с"),
    "asa": ("Average speed of answer", "Среднее время ответа"),
    "abandoned": ("Abandoned", "Брошено"),
    "abandon_rate": ("Abandonment", "Доля брошенных"),
    "short_abandons": ("Short abandons (excluded)", "Короткие сбросы (не учтены)"),
    "adequacy": ("Adequacy", "Полнота ответа"),
    "csat": ("CSAT", "CSAT"),
    "fcr": ("FCR", "Решено с первого раза"),
    "response_rate": ("Response rate", "Доля ответивших"),
    "survey_funnel": ("Survey funnel", "Воронка опросов"),
    "funnel_line": ("{legs} legs · {incall} answered on the line · {sent} follow-ups sent · {answered} answered",
                    "{legs} звонков · {incall} ответили на линии · {sent} повторных опросов · {answered} с ответом"),
    "handled": ("Handled", "Обработано"),
    "mean_rating": ("Mean rating", "Средняя оценка"),
    "flags_confirmed": ("Confirmed flags", "Подтверждённые отметки"),
    "aht": ("AHT", "Ср. время обработки"),
    "calls_per_shift": ("Calls/shift", "Звонков за смену"),
    "composite": ("Composite", "Итоговый балл"),
    "tier": ("Tier", "Уровень"),
    "rank": ("Rank", "Место"),
    "insufficient": ("insufficient data", "мало данных"),
    "interval_note": ("Shrunk estimate with its 90% interval; n = answers.",
                      "Сглаженная оценка и её 90% интервал; n — число ответов."),
    "cx_note": ("Adequacy = share of “yes” to Q1; CSAT = share of 4–5 on Q2 (top-2-box); FCR = no repeat call within the window.",
                "Полнота — доля «да» на вопрос 1; CSAT — доля оценок 4–5 на вопрос 2; решено с первого раза — нет повторного звонка в течение окна."),
    "no_rows": ("Nothing to show for this selection.", "Для этого выбора ничего нет."),
    "weekly_trends": ("Weekly trends", "По неделям"),
    "composite_parts": ("Composite KPI, part by part", "Итоговый балл по частям"),
    "part": ("Part", "Часть"),
    "rate": ("Rate", "Значение"),
    "weight": ("Weight", "Вес"),
    "points": ("Points", "Баллы"),
    "penalty": ("Flag penalty", "Штраф за отметки"),
    "flags_per_100": ("confirmed flags per 100 calls", "подтверждённых отметок на 100 звонков"),
    "score": ("Score", "Балл"),
    "calls": ("Calls", "Звонки"),
    "call": ("Call", "Звонок"),
    "started": ("Started", "Начало"),
    "caller": ("Caller", "Клиент"),
    "status": ("Status", "Статус"),
    "duration": ("Duration", "Длительность"),
    "talk": ("Talk", "Разговор"),
    "ended_by": ("Ended by", "Завершил"),
    "answers": ("Survey", "Опрос"),
    "agents": ("Agents", "Операторы"),
    "ended_agent": ("agent", "оператор"),
    "ended_caller": ("caller", "клиент"),
    "ended_unknown": ("—", "—"),
    "timeline": ("Timeline", "Ход звонка"),
    "ivr_language": ("IVR: language", "IVR: язык"),
    "ivr_menu": ("IVR: menu", "IVR: меню"),
    "attempt": ("attempt", "попытка"),
    "pressed": ("pressed {d}", "нажата {d}"),
    "no_input": ("no key pressed", "клавиша не нажата"),
    "queue_visit": ("Queue {q} (visit {v}, {r})", "Очередь {q} (заход {v}, {r})"),
    "wait": ("waited {s} s", "ожидание {s} с"),
    "leg": ("Agent {a}", "Оператор {a}"),
    "dial_status": ("dial", "вызов"),
    "not_bridged": ("not connected", "не соединён"),
    "survey_state": ("survey", "опрос"),
    "answer": ("{q}: {v}", "{q}: {v}"),
    "answer_missing": ("{q}: {status}", "{q}: {status}"),
    "flags": ("Flags", "Отметки"),
    "kind": ("Kind", "Тип"),
    "reason": ("Reason", "Причина"),
    "evidence": ("Evidence", "Данные"),
    "state": ("State", "Состояние"),
    "occurred": ("When", "Когда"),
    "comment": ("Comment", "Комментарий"),
    "confirm": ("Confirm", "Подтвердить"),
    "dismiss": ("Dismiss", "Отклонить"),
    "reviewed_by": ("Reviewed by", "Проверил"),
    "review_saved": ("Flag {id} {state}.", "Отметка {id}: {state}."),
    "comment_required": ("A comment is required.", "Нужен комментарий."),
    "state_open": ("open", "открыта"),
    "state_confirmed": ("confirmed", "подтверждена"),
    "state_dismissed": ("dismissed", "отклонена"),
    "handle_time_title": ("Agent-ended talk times", "Длительность разговоров, завершённых оператором"),
    "handle_time_note": ("Only calls the agent hung up. The dashed line is the cap ({cap}); the shaded strip is the last {w} s before it, where calls cut to beat the cap pile up.",
                         "Только звонки, которые завершил оператор. Пунктир — лимит ({cap}); закрашенная полоса — последние {w} с перед ним, где скапливаются звонки, оборванные ради лимита."),
    "centre": ("Whole centre", "Весь центр"),
    "cap": ("cap", "лимит"),
    "cliff_yes": ("Cliff: {o} calls in the strip vs {e} expected (p = {p})",
                  "Обрыв: {o} звонков в полосе при ожидаемых {e} (p = {p})"),
    "cliff_no": ("No cliff: {o} in the strip vs {e} expected (p = {p})",
                 "Обрыва нет: {o} в полосе при ожидаемых {e} (p = {p})"),
    "cliff_insufficient": ("Too few calls near the cap for a verdict ({n}).",
                           "Слишком мало звонков около лимита для вывода ({n})."),
    "cliff_note": ("Each chart's verdict is its own test; the flag queue corrects for testing many agents at once (Benjamini–Hochberg), so a borderline p here may raise no flag.",
                   "Вывод под каждым графиком — отдельный тест; в очереди отметок учтено, что проверяется много операторов сразу (Бенджамини–Хохберг), поэтому пограничное p здесь может не дать отметки."),
    "periods": ("Pay periods", "Расчётные периоды"),
    "key": ("Key", "Ключ"),
    "starts": ("Starts", "Начало"),
    "ends": ("Ends", "Конец"),
    "locked_by": ("Locked by", "Закрыл"),
    "lock": ("Lock", "Закрыть"),
    "export": ("Export", "Выгрузить"),
    "download": ("Download", "Скачать"),
    "format": ("Format", "Формат"),
    "checksum": ("Checksum", "Контрольная сумма"),
    "locked": ("Period {key} locked.", "Период {key} закрыт."),
    "export_queued": ("Export of {key} ({fmt}) queued as job {id}.",
                      "Выгрузка {key} ({fmt}) поставлена в очередь, задача {id}."),
    "jobs": ("Exports", "Выгрузки"),
    "job": ("Job", "Задача"),
    "progress": ("Progress", "Ход"),
    "created_by": ("By", "Кто"),
    "created": ("Created", "Создано"),
    "refresh": ("Refresh", "Обновить"),
    "audit": ("Audit log", "Журнал действий"),
    "at": ("At", "Когда"),
    "actor": ("Actor", "Кто"),
    "action": ("Action", "Действие"),
    "target": ("Target", "Объект"),
    "detail": ("Detail", "Подробности"),
    "users": ("Users", "Пользователи"),
    "role": ("Role", "Роль"),
    "locale": ("Language", "Язык"),
    "active": ("Active", "Активен"),
    "last_login": ("Last login", "Последний вход"),
    "name": ("Name", "Имя"),
    "create": ("Create", "Создать"),
    "save": ("Save", "Сохранить"),
    "saved": ("Saved.", "Сохранено."),
    "new_password": ("New password", "Новый пароль"),
    "deactivate": ("Deactivate", "Отключить"),
    "activate": ("Activate", "Включить"),
    "yes": ("yes", "да"),
    "no": ("no", "нет"),
    "tokens": ("API tokens", "API-токены"),
    "revoke": ("Revoke", "Отозвать"),
    "revoked": ("revoked", "отозван"),
    "token_once": ("Copy this token now; it is not shown again:",
                   "Скопируйте токен сейчас, больше он показан не будет:"),
    "last_used": ("Last used", "Последнее использование"),
    "skills": ("Skills", "Очереди"),
    "presence": ("Presence", "Статус"),
    "phone": ("Phone", "Телефон"),
    "definitions": ("IVR and survey definitions (read-only)", "Настройки IVR и опроса (только чтение)"),
    "version": ("Version", "Версия"),
    "menu": ("Menu", "Меню"),
    "survey": ("Survey", "Опрос"),
    "question": ("Question", "Вопрос"),
    "valid_keys": ("Keys", "Клавиши"),
    "digit": ("Key", "Клавиша"),
    "queue": ("Queue", "Очередь"),
    "languages": ("Languages", "Языки"),
    "hours": ("Hours", "Часы работы"),
    "signed_in_as": ("Signed in as {email} ({role})", "Вы вошли как {email} ({role})"),
    "role_supervisor": ("supervisor", "руководитель"),
    "role_hr": ("HR", "HR"),
    "role_admin": ("admin", "администратор"),
    "print": ("Print", "Печать"),
    # Refused input: what was wrong and what to do instead ({value} is the input as sent, shortened).
    "nul_refused": ("The request contained a NUL character, which no field may hold; nothing was done.",
                    "В запросе есть символ NUL, недопустимый ни в одном поле; ничего не сделано."),
    "bad_request": ("The request could not be understood; nothing was done.",
                    "Запрос не удалось разобрать; ничего не сделано."),
    "filter_ignored": ("{what}: “{value}” is not a known value, so this filter was not applied.",
                       "{what}: значение «{value}» неизвестно, фильтр не применён."),
    "sort": ("Sort", "Сортировка"),
    "direction": ("Order", "Порядок"),
    "bad_from": ("The start date must be a date like 2026-11-30, not “{value}”; showing the default range.",
                 "Дата начала должна быть вида 2026-11-30, а не «{value}»; показан диапазон по умолчанию."),
    "bad_to": ("The end date must be a date like 2026-11-30, not “{value}”; showing the default range.",
               "Дата окончания должна быть вида 2026-11-30, а не «{value}»; показан диапазон по умолчанию."),
    "day_out_of_range": ("Dates must lie between {first} and {last}; showing the default range.",
                         "Даты должны быть между {first} и {last}; показан диапазон по умолчанию."),
    "end_before_start": ("The end date is before the start date; showing the default range.",
                         "Дата окончания раньше даты начала; показан диапазон по умолчанию."),
    "range_too_long": ("A range can span at most {days} days; showing the default range.",
                       "Диапазон может быть не длиннее {days} дней; показан диапазон по умолчанию."),
    "unknown_period": ("There is no period “{value}”; showing the default range.",
                       "Периода «{value}» нет; показан диапазон по умолчанию."),
    "bad_language": ("There is no language “{value}”; choose one of {choices}.",
                     "Языка «{value}» нет; выберите один из: {choices}."),
    "bad_email": ("“{value}” is not an e-mail address.", "«{value}» — не адрес электронной почты."),
    "bad_role": ("The role must be one of {choices}.", "Роль должна быть одной из: {choices}."),
    "bad_locale": ("The language must be one of {choices}.", "Язык должен быть одним из: {choices}."),
    "bad_active": ("“{value}” is neither active nor deactivated.", "«{value}» — ни «активен», ни «отключён»."),
    "user_exists": ("A user {value} already exists.", "Пользователь {value} уже существует."),
    "user_name_long": ("A name can have at most {n} characters.", "Имя может содержать не больше {n} символов."),
    "password_short": ("The password must have at least {n} characters.",
                       "Пароль должен содержать не меньше {n} символов."),
    "token_name": ("A token needs a name of 1 to {n} characters.", "Токену нужно имя длиной от 1 до {n} символов."),
    "agent_bad_id": ("An agent id is 1 to 64 Latin letters, digits, “.”, “_” or “-” (it is the Twilio Client identity).",
                     "Идентификатор оператора — от 1 до 64 латинских букв, цифр, «.», «_» или «-» "
                     "(это имя клиента Twilio)."),
    "agent_exists": ("An agent {value} already exists.", "Оператор {value} уже существует."),
    "agent_name_long": ("An agent's name can have at most {n} characters.",
                        "Имя оператора может содержать не больше {n} символов."),
    "agent_team_long": ("A team name can have at most {n} characters.",
                        "Название команды может содержать не больше {n} символов."),
    "unknown_queues": ("There are no queues {value}; the queues are {choices}.",
                       "Очередей {value} нет; есть очереди: {choices}."),
    "bad_phone": ("A phone number is written in E.164 form, like +15551234567, or left empty.",
                  "Телефон записывается в формате E.164, например +15551234567, или остаётся пустым."),
    "agent_refused": ("The agent was not saved: {detail}", "Оператор не сохранён: {detail}"),
    "bad_decision": ("Choose confirm or dismiss.", "Выберите «подтвердить» или «отклонить»."),
    "comment_long": ("A comment can have at most {n} characters.", "Комментарий может содержать не больше {n} символов."),
    "review_refused": ("Flag {id} was not reviewed: {detail}", "Отметка {id} не рассмотрена: {detail}"),
    "bad_format": ("The format must be one of {choices}.", "Формат должен быть одним из: {choices}."),
    "already_locked": ("Period {key} is already locked.", "Период {key} уже закрыт."),
    "not_ended": ("Period {key} ends {end}; it can be locked once it has ended.",
                  "Период {key} заканчивается {end}; закрыть его можно после окончания."),
    "lock_refused": ("Period {key} was not locked: {detail}", "Период {key} не закрыт: {detail}"),
    "lock_started": ("Period {key} is being locked by job {id}.", "Период {key} закрывается заданием {id}."),
    # call-back tasks (issue 14)
    "nav_callbacks": ("Call-backs", "Перезвоны"),
    "callbacks": ("Call-back tasks", "Задачи перезвона"),
    "scope": ("Whose", "Чьи"),
    "scope_mine": ("Mine", "Мои"),
    "scope_team": ("My teams", "Мои команды"),
    "scope_all": ("All", "Все"),
    "page": ("Page", "Страница"),
    "page_n_of_m": ("Page {n} of {m}", "Страница {n} из {m}"),
    "tasks_count": ("{n} tasks, {overdue} overdue", "Задач: {n}, просрочено: {overdue}"),
    "no_tasks": ("No call-back tasks for this selection.", "Для этого выбора задач перезвона нет."),
    "task_todo": ("to do", "к выполнению"),
    "task_any": ("any state", "любое состояние"),
    "task_open": ("open", "открыта"),
    "task_called": ("called", "звонили"),
    "task_resolved": ("resolved", "решена"),
    "task_not-reached": ("not reached", "не дозвонились"),
    "task_declined": ("declined", "отказ"),
    "reason_adequacy-no": ("question not answered", "вопрос не решён"),
    "reason_low-rating": ("rated 1–2", "оценка 1–2"),
    "reason_abandoned-after-transfer": ("hung up waiting for an agent again", "не дождался повторного соединения"),
    "due": ("Due", "Срок"),
    "overdue": ("overdue", "просрочена"),
    "overdue_only": ("Overdue only", "Только просроченные"),
    "caller": ("Caller", "Клиент"),
    "owner": ("Owner", "Ответственный"),
    "unassigned": ("unassigned", "не назначена"),
    "outcome_note": ("Outcome", "Итог"),
    "assign": ("Assign", "Назначить"),
    "task_saved": ("Task {id}: {state}.", "Задача {id}: {state}."),
    "task_assigned": ("Task {id} assigned to {email}.", "Задача {id} назначена: {email}."),
    "task_refused": ("Task {id} was not changed: {detail}", "Задача {id} не изменена: {detail}"),
    "recovery_panel": ("Call-back recovery", "Возврат клиентов"),
    "tasks_opened": ("Opened", "Открыто"),
    "tasks_resolved": ("Resolved", "Решено"),
    "recovery_rate": ("Recovery", "Доля решённых"),
    "recovery_note": ("Call-back tasks opened in the range, by the agent's team and by agent; recovery = resolved / opened. Not part of pay.",
                      "Задачи перезвона, открытые за период, по командам и операторам; доля решённых = решено / открыто. На оплату не влияет."),
    "cb_no_task": ("There is no call-back task {value}.", "Задачи перезвона {value} нет."),
    "cb_bad_state": ("The state must be one of {choices}.", "Состояние должно быть одним из: {choices}."),
    "cb_bad_transition": ("A task that is {old} cannot become {new}; from {old} it may become {choices}.",
                          "Задача в состоянии {old} не может перейти в {new}; из {old} возможно: {choices}."),
    "cb_note_long": ("An outcome note can have at most {n} characters.", "Итог может содержать не больше {n} символов."),
    "cb_not_supervisor": ("{value} is not an active supervisor or admin.",
                          "{value} — не действующий супервизор или администратор."),
    "cb_bad_team": ("A team name needs 1 to {n} characters.", "Название команды — от 1 до {n} символов."),
}


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name}


def check_table(table: dict[str, tuple[str, ...]]) -> None:
    """Every row has a non-empty string for every language, with the same placeholders."""
    for msgid, row in table.items():
        if not isinstance(row, tuple) or len(row) != len(LANGUAGES) \
                or not all(isinstance(column, str) and column for column in row):
            raise ValueError(f"i18n: {msgid!r} needs one non-empty string for each of {', '.join(LANGUAGES)}")
        if len({frozenset(_fields(column)) for column in row}) != 1:
            raise ValueError(f"i18n: the translations of {msgid!r} have different placeholders")


check_table(STRINGS)


class InputError(ValueError):
    """Input a page refuses, worded as one of the strings above: ``say()`` gives the message
    in the reader's language, ``str()`` in English (for the CLI and the log)."""

    def __init__(self, msgid: str, /, **params):
        self.msgid, self.params = msgid, params
        super().__init__(text(msgid, "en", **params))

    def say(self) -> str:
        return t(self.msgid, **self.params)


def current_language() -> str:
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    return request.accept_languages.best_match(LANGUAGES) or "en"


def t(msgid: str, /, **fmt) -> str:
    """The string ``msgid`` in the reader's language; a missing one shows itself, loudly."""
    return text(msgid, current_language(), **fmt)


def text(msgid: str, lang: str, /, **fmt) -> str:
    """The string ``msgid`` in ``lang`` (outside a request too: the CLI speaks English)."""
    row = STRINGS.get(msgid)
    found = row[LANGUAGES.index(lang)] if row is not None else f"[{msgid}]"
    return found.format(**fmt) if fmt else found

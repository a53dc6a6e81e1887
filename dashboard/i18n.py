"""Interface strings in English and Russian, and the reader's language.

A plain dict keeps every string in one reviewable place; a test checks both languages
have the same keys. The language is the session's choice (the switch in the header),
else the user's saved locale, else the browser's preference.
"""
from __future__ import annotations

from flask import request, session
from flask_login import current_user

LANGUAGES = ("en", "ru")

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "app": "Aftercall", "login": "Log in", "logout": "Log out", "email": "E-mail", "password": "Password",
        "bad_login": "Wrong e-mail or password, or the account is disabled.",
        "session_expired": "Your session expired; please log in again.",
        "please_login": "Please log in to see this page.",
        "forbidden": "Your role does not allow this page or action.",
        "csrf_failed": "The form expired or was not sent from this site; please try again.",
        "not_found": "Not found.",
        "language": "Language",
        "nav_scorecards": "Scorecards", "nav_calls": "Calls", "nav_flags": "Flags",
        "nav_handle_time": "Handle time", "nav_periods": "Periods", "nav_audit": "Audit log",
        "nav_users": "Users", "nav_agents": "Agents", "nav_tokens": "API tokens", "nav_definitions": "IVR & survey",
        "filter": "Show", "period": "Period", "from": "From", "to": "To", "team": "Team", "all_teams": "All teams",
        "agent": "Agent", "all": "All",
        "unavailable": "Not available yet: {what}.",
        "sla_panel": "Service (SLA)", "cx_panel": "Caller experience",
        "offered": "Offered", "answered": "Answered", "service_level": "Service level",
        "within_s": "answered within {s} s", "asa": "Average speed of answer", "abandoned": "Abandoned",
        "abandon_rate": "Abandonment", "short_abandons": "Short abandons (excluded)",
        "adequacy": "Adequacy", "csat": "CSAT", "fcr": "FCR", "response_rate": "Response rate",
        "handled": "Handled", "mean_rating": "Mean rating", "flags_confirmed": "Confirmed flags",
        "aht": "AHT", "calls_per_shift": "Calls/shift", "composite": "Composite", "tier": "Tier", "rank": "Rank",
        "insufficient": "insufficient data", "interval_note": "Shrunk estimate with its 90% interval; n = answers.",
        "cx_note": "Adequacy = share of “yes” to Q1; CSAT = share of 4–5 on Q2 (top-2-box); FCR = no repeat call within the window.",
        "no_rows": "Nothing to show for this selection.",
        "weekly_trends": "Weekly trends", "composite_parts": "Composite KPI, part by part",
        "part": "Part", "rate": "Rate", "weight": "Weight", "points": "Points", "penalty": "Flag penalty",
        "flags_per_100": "confirmed flags per 100 calls", "score": "Score",
        "calls": "Calls", "call": "Call", "started": "Started", "caller": "Caller", "status": "Status",
        "duration": "Duration", "talk": "Talk", "ended_by": "Ended by", "answers": "Survey", "agents": "Agents",
        "ended_agent": "agent", "ended_caller": "caller", "ended_unknown": "—",
        "timeline": "Timeline", "ivr_language": "IVR: language", "ivr_menu": "IVR: menu", "attempt": "attempt",
        "pressed": "pressed {d}", "no_input": "no key pressed", "queue_visit": "Queue {q} (visit {v}, {r})",
        "wait": "waited {s} s", "leg": "Agent {a}", "dial_status": "dial", "not_bridged": "not connected",
        "survey_state": "survey", "answer": "{q}: {v}", "answer_missing": "{q}: {status}",
        "flags": "Flags", "kind": "Kind", "reason": "Reason", "evidence": "Evidence", "state": "State",
        "occurred": "When", "comment": "Comment", "confirm": "Confirm", "dismiss": "Dismiss",
        "reviewed_by": "Reviewed by", "review_saved": "Flag {id} {state}.", "comment_required": "A comment is required.",
        "state_open": "open", "state_confirmed": "confirmed", "state_dismissed": "dismissed",
        "handle_time_title": "Agent-ended talk times", "handle_time_note":
            "Only calls the agent hung up. The dashed line is the cap ({cap}); the shaded strip is the last {w} s before it, where calls cut to beat the cap pile up.",
        "centre": "Whole centre", "cap": "cap", "cliff_yes": "Cliff: {o} calls in the strip vs {e} expected (p = {p})",
        "cliff_no": "No cliff: {o} in the strip vs {e} expected (p = {p})", "cliff_insufficient": "Too few calls near the cap for a verdict ({n}).",
        "cliff_note": "Each chart's verdict is its own test; the flag queue corrects for testing many agents at once (Benjamini–Hochberg), so a borderline p here may raise no flag.",
        "periods": "Pay periods", "key": "Key", "starts": "Starts", "ends": "Ends", "locked_by": "Locked by",
        "lock": "Lock", "export": "Export", "download": "Download", "format": "Format", "checksum": "Checksum",
        "locked": "Period {key} locked.", "export_queued": "Export of {key} ({fmt}) queued as job {id}.",
        "jobs": "Exports", "job": "Job", "progress": "Progress", "created_by": "By", "created": "Created",
        "refresh": "Refresh",
        "audit": "Audit log", "at": "At", "actor": "Actor", "action": "Action", "target": "Target", "detail": "Detail",
        "users": "Users", "role": "Role", "locale": "Language", "active": "Active", "last_login": "Last login",
        "name": "Name", "create": "Create", "save": "Save", "saved": "Saved.", "new_password": "New password",
        "deactivate": "Deactivate", "activate": "Activate", "yes": "yes", "no": "no",
        "tokens": "API tokens", "revoke": "Revoke", "revoked": "revoked", "token_once": "Copy this token now; it is not shown again:",
        "last_used": "Last used",
        "skills": "Skills", "presence": "Presence", "phone": "Phone",
        "definitions": "IVR and survey definitions (read-only)", "version": "Version", "menu": "Menu", "survey": "Survey",
        "question": "Question", "valid_keys": "Keys", "digit": "Key", "queue": "Queue", "languages": "Languages",
        "hours": "Hours", "signed_in_as": "Signed in as {email} ({role})",
        "role_supervisor": "supervisor", "role_hr": "HR", "role_admin": "admin",
        "print": "Print",
    },
    "ru": {
        "app": "Aftercall", "login": "Войти", "logout": "Выйти", "email": "Эл. почта", "password": "Пароль",
        "bad_login": "Неверная почта или пароль, либо учётная запись отключена.",
        "session_expired": "Сеанс истёк, войдите снова.",
        "please_login": "Войдите, чтобы открыть эту страницу.",
        "forbidden": "Ваша роль не даёт доступа к этой странице или действию.",
        "csrf_failed": "Форма устарела или отправлена не с этого сайта; попробуйте ещё раз.",
        "not_found": "Не найдено.",
        "language": "Язык",
        "nav_scorecards": "Показатели", "nav_calls": "Звонки", "nav_flags": "Отметки",
        "nav_handle_time": "Длительность", "nav_periods": "Периоды", "nav_audit": "Журнал",
        "nav_users": "Пользователи", "nav_agents": "Операторы", "nav_tokens": "API-токены", "nav_definitions": "IVR и опрос",
        "filter": "Показать", "period": "Период", "from": "С", "to": "По", "team": "Команда", "all_teams": "Все команды",
        "agent": "Оператор", "all": "Все",
        "unavailable": "Пока недоступно: {what}.",
        "sla_panel": "Обслуживание (SLA)", "cx_panel": "Опыт клиента",
        "offered": "Поступило", "answered": "Отвечено", "service_level": "Уровень обслуживания",
        "within_s": "отвечено за {s} с", "asa": "Среднее время ответа", "abandoned": "Брошено",
        "abandon_rate": "Доля брошенных", "short_abandons": "Короткие сбросы (не учтены)",
        "adequacy": "Полнота ответа", "csat": "CSAT", "fcr": "Решено с первого раза", "response_rate": "Доля ответивших",
        "handled": "Обработано", "mean_rating": "Средняя оценка", "flags_confirmed": "Подтверждённые отметки",
        "aht": "Ср. время обработки", "calls_per_shift": "Звонков за смену", "composite": "Итоговый балл", "tier": "Уровень", "rank": "Место",
        "insufficient": "мало данных", "interval_note": "Сглаженная оценка и её 90% интервал; n — число ответов.",
        "cx_note": "Полнота — доля «да» на вопрос 1; CSAT — доля оценок 4–5 на вопрос 2; решено с первого раза — нет повторного звонка в течение окна.",
        "no_rows": "Для этого выбора ничего нет.",
        "weekly_trends": "По неделям", "composite_parts": "Итоговый балл по частям",
        "part": "Часть", "rate": "Значение", "weight": "Вес", "points": "Баллы", "penalty": "Штраф за отметки",
        "flags_per_100": "подтверждённых отметок на 100 звонков", "score": "Балл",
        "calls": "Звонки", "call": "Звонок", "started": "Начало", "caller": "Клиент", "status": "Статус",
        "duration": "Длительность", "talk": "Разговор", "ended_by": "Завершил", "answers": "Опрос", "agents": "Операторы",
        "ended_agent": "оператор", "ended_caller": "клиент", "ended_unknown": "—",
        "timeline": "Ход звонка", "ivr_language": "IVR: язык", "ivr_menu": "IVR: меню", "attempt": "попытка",
        "pressed": "нажата {d}", "no_input": "клавиша не нажата", "queue_visit": "Очередь {q} (заход {v}, {r})",
        "wait": "ожидание {s} с", "leg": "Оператор {a}", "dial_status": "вызов", "not_bridged": "не соединён",
        "survey_state": "опрос", "answer": "{q}: {v}", "answer_missing": "{q}: {status}",
        "flags": "Отметки", "kind": "Тип", "reason": "Причина", "evidence": "Данные", "state": "Состояние",
        "occurred": "Когда", "comment": "Комментарий", "confirm": "Подтвердить", "dismiss": "Отклонить",
        "reviewed_by": "Проверил", "review_saved": "Отметка {id}: {state}.", "comment_required": "Нужен комментарий.",
        "state_open": "открыта", "state_confirmed": "подтверждена", "state_dismissed": "отклонена",
        "handle_time_title": "Длительность разговоров, завершённых оператором", "handle_time_note":
            "Только звонки, которые завершил оператор. Пунктир — лимит ({cap}); закрашенная полоса — последние {w} с перед ним, где скапливаются звонки, оборванные ради лимита.",
        "centre": "Весь центр", "cap": "лимит", "cliff_yes": "Обрыв: {o} звонков в полосе при ожидаемых {e} (p = {p})",
        "cliff_no": "Обрыва нет: {o} в полосе при ожидаемых {e} (p = {p})", "cliff_insufficient": "Слишком мало звонков около лимита для вывода ({n}).",
        "cliff_note": "Вывод под каждым графиком — отдельный тест; в очереди отметок учтено, что проверяется много операторов сразу (Бенджамини–Хохберг), поэтому пограничное p здесь может не дать отметки.",
        "periods": "Расчётные периоды", "key": "Ключ", "starts": "Начало", "ends": "Конец", "locked_by": "Закрыл",
        "lock": "Закрыть", "export": "Выгрузить", "download": "Скачать", "format": "Формат", "checksum": "Контрольная сумма",
        "locked": "Период {key} закрыт.", "export_queued": "Выгрузка {key} ({fmt}) поставлена в очередь, задача {id}.",
        "jobs": "Выгрузки", "job": "Задача", "progress": "Ход", "created_by": "Кто", "created": "Создано",
        "refresh": "Обновить",
        "audit": "Журнал действий", "at": "Когда", "actor": "Кто", "action": "Действие", "target": "Объект", "detail": "Подробности",
        "users": "Пользователи", "role": "Роль", "locale": "Язык", "active": "Активен", "last_login": "Последний вход",
        "name": "Имя", "create": "Создать", "save": "Сохранить", "saved": "Сохранено.", "new_password": "Новый пароль",
        "deactivate": "Отключить", "activate": "Включить", "yes": "да", "no": "нет",
        "tokens": "API-токены", "revoke": "Отозвать", "revoked": "отозван", "token_once": "Скопируйте токен сейчас, больше он показан не будет:",
        "last_used": "Последнее использование",
        "skills": "Очереди", "presence": "Статус", "phone": "Телефон",
        "definitions": "Настройки IVR и опроса (только чтение)", "version": "Версия", "menu": "Меню", "survey": "Опрос",
        "question": "Вопрос", "valid_keys": "Клавиши", "digit": "Клавиша", "queue": "Очередь", "languages": "Языки",
        "hours": "Часы работы", "signed_in_as": "Вы вошли как {email} ({role})",
        "role_supervisor": "руководитель", "role_hr": "HR", "role_admin": "администратор",
        "print": "Печать",
    },
}


def current_language() -> str:
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    return request.accept_languages.best_match(LANGUAGES) or "en"


def t(msgid: str, /, **fmt) -> str:
    """The string ``msgid`` in the reader's language; a missing one shows itself, loudly."""
    text = STRINGS[current_language()].get(msgid) or STRINGS["en"].get(msgid) or f"[{msgid}]"
    return text.format(**fmt) if fmt else text

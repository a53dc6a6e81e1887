"""The pay columns in words, for the people who open the XLSX: a header and an explanation of
each column, and the tiers and row types, in English and Russian.

The CSV and the JSON keep the stable keys of ``periods.COLUMNS`` (systems read them); the
XLSX is read by people, so its headers and codes are words in the exporting user's language,
and its second sheet explains every column next to its key. Like the IVR's prompts, these
texts live with the domain that writes the file (a job, outside any web request).
"""
from __future__ import annotations

LANGUAGES = ("en", "ru")

# key: ((English header, explanation), (Russian header, explanation))
COLUMN_TEXT: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "period": (("Paid in period", "The pay period this row is paid in."),
               ("Период выплаты", "Расчётный период, в котором выплачивается эта строка.")),
    "row_type": (("Row", "A score for the period, or an adjustment for a change to an earlier locked period."),
                 ("Строка", "Оценка за период или поправка к ранее закрытому периоду.")),
    "source_period": (("About period", "The period the numbers are about (an adjustment's earlier period)."),
                      ("За период", "Период, к которому относятся числа (для поправки — прежний период).")),
    "agent_id": (("Agent ID", "The agent's login (Twilio Client identity)."),
                 ("ID оператора", "Логин оператора (идентификатор в Twilio Client).")),
    "agent_name": (("Agent", "The agent's name."), ("Оператор", "Имя оператора.")),
    "team": (("Team", "The agent's team."), ("Команда", "Команда оператора.")),
    "handled": (("Calls handled", "Calls the agent answered."), ("Обслужено звонков", "Звонки, на которые ответил оператор.")),
    "surveys_offered": (("Surveys offered", "Calls after which the caller was offered the survey."),
                        ("Опросов предложено", "Звонки, после которых клиенту предложили опрос.")),
    "surveys_completed": (("Surveys answered", "Surveys with at least one answer."),
                          ("Опросов с ответом", "Опросы, в которых есть хотя бы один ответ.")),
    "response_rate": (("Response rate", "Surveys answered ÷ surveys offered."),
                      ("Доля ответов", "Опросы с ответом ÷ предложенные опросы.")),
    "adequacy_raw": (("Question resolved, as said", "Share of callers who said their question was answered, as they said it."),
                     ("Вопрос решён, как ответили", "Доля клиентов, сказавших, что их вопрос решён, без поправок.")),
    "adequacy": (("Question resolved (scored)", "The same share adjusted for the queues worked and for few answers: what is scored."),
                 ("Вопрос решён (в оценке)", "Та же доля с поправкой на очереди и на малое число ответов: она идёт в оценку.")),
    "adequacy_low": (("Question resolved, low", "Lower end of the 90 per cent interval."),
                     ("Вопрос решён, нижняя граница", "Нижняя граница 90-процентного интервала.")),
    "adequacy_high": (("Question resolved, high", "Upper end of the 90 per cent interval."),
                      ("Вопрос решён, верхняя граница", "Верхняя граница 90-процентного интервала.")),
    "csat_raw": (("Rated 4–5, as said", "Share of ratings of 4 or 5 out of 5, as given."),
                 ("Оценки 4–5, как ответили", "Доля оценок 4 и 5 из 5, без поправок.")),
    "csat": (("Rated 4–5 (scored)", "The same share adjusted and shrunk: what is scored."),
             ("Оценки 4–5 (в оценке)", "Та же доля с поправками: она идёт в оценку.")),
    "csat_low": (("Rated 4–5, low", "Lower end of the 90 per cent interval."),
                 ("Оценки 4–5, нижняя граница", "Нижняя граница 90-процентного интервала.")),
    "csat_high": (("Rated 4–5, high", "Upper end of the 90 per cent interval."),
                  ("Оценки 4–5, верхняя граница", "Верхняя граница 90-процентного интервала.")),
    "mean_rating": (("Mean rating", "Average rating from 1 to 5, shrunk for few answers."),
                    ("Средняя оценка", "Средняя оценка от 1 до 5 с поправкой на малое число ответов.")),
    "fcr_raw": (("Resolved first time, as counted", "Share of the agent's calls not followed by another call from the same number within 72 hours."),
                ("Решено с первого раза, как есть", "Доля звонков оператора, после которых с того же номера не звонили 72 часа.")),
    "fcr": (("Resolved first time (scored)", "The same share adjusted and shrunk: what is scored."),
            ("Решено с первого раза (в оценке)", "Та же доля с поправками: она идёт в оценку.")),
    "fcr_low": (("Resolved first time, low", "Lower end of the 90 per cent interval."),
                ("Решено с первого раза, нижняя граница", "Нижняя граница 90-процентного интервала.")),
    "fcr_high": (("Resolved first time, high", "Upper end of the 90 per cent interval."),
                 ("Решено с первого раза, верхняя граница", "Верхняя граница 90-процентного интервала.")),
    "confirmed_flags": (("Confirmed findings", "Penalised findings a supervisor confirmed."),
                        ("Подтверждённые нарушения", "Нарушения со штрафом, подтверждённые руководителем.")),
    "flag_penalty": (("Points off for findings", "Points taken off the score for confirmed findings."),
                     ("Штраф за нарушения", "Баллы, снятые с оценки за подтверждённые нарушения.")),
    "composite": (("Score", "The score from 0 to 100."), ("Оценка", "Итоговая оценка от 0 до 100.")),
    "tier": (("Tier", "The bonus tier."), ("Уровень", "Уровень премии.")),
    "multiplier": (("Multiplier", "The bonus multiplier paid."), ("Множитель", "Множитель премии к выплате.")),
    "insufficient": (("Too few answers", "Yes: too few answered surveys for a score, a rank or a tier; the multiplier is what the pay rule gives such agents."),
                     ("Мало ответов", "Да: слишком мало опросов с ответом для оценки, места и уровня; множитель — тот, что правило оплаты даёт таким операторам.")),
    "rank": (("Rank", "Rank among the agents with enough answers."), ("Место", "Место среди операторов с достаточным числом ответов.")),
    "previous_tier": (("Tier paid before", "Adjustments only: the tier paid before."),
                      ("Прежний уровень", "Только для поправок: уровень, выплаченный ранее.")),
    "previous_multiplier": (("Multiplier paid before", "Adjustments only: the multiplier paid before."),
                            ("Прежний множитель", "Только для поправок: множитель, выплаченный ранее.")),
    "multiplier_delta": (("Multiplier change", "Adjustments only: the new multiplier minus the one paid before."),
                         ("Изменение множителя", "Только для поправок: новый множитель минус прежний.")),
    "employee_number": (("Employee number", "HR's number for the agent (set where agents are managed); empty when not set."),
                        ("Табельный номер", "Табельный номер оператора (задаётся в списке операторов); пусто, если не задан.")),
    "pay_reason": (("Pay reason code", "Why the multiplier is what it is, as a stable code: tier, insufficient, unanswered-calls, finding-confirmed (docs/hr.md)."),
                   ("Код причины выплаты", "Почему множитель именно такой, постоянным кодом: tier, insufficient, unanswered-calls, finding-confirmed (docs/hr.md).")),
    "pay_reason_text": (("Pay reason", "The same reason as a sentence, with the row's own figures."),
                        ("Причина выплаты", "Та же причина словами, с числами этой строки.")),
    "pay_rule_version": (("Pay rule version", "The version of the pay rule that computed this row (scoring.toml)."),
                         ("Версия правила оплаты", "Версия правила оплаты, по которой посчитана строка (scoring.toml).")),
    "disputes_open": (("Open disputes", "The agent's disputes of this period's findings that no supervisor had answered when the rows were made (at the lock, for a locked period)."),
                      ("Открытые возражения", "Возражения оператора по нарушениям этого периода, на которые руководитель ещё не ответил, когда строки были посчитаны (для закрытого периода — при закрытии).")),
}

WORDS: dict[str, tuple[str, str]] = {
    # tiers
    "none": ("no tier", "без уровня"), "bronze": ("bronze", "бронза"), "silver": ("silver", "серебро"),
    "gold": ("gold", "золото"), "platinum": ("platinum", "платина"),
    "insufficient-data": ("none (too few answers)", "нет (мало ответов)"),
    # row types
    "score": ("score", "оценка"), "adjustment": ("adjustment", "поправка"),
}
WORDED = ("tier", "previous_tier", "row_type")
"""Columns whose codes the XLSX shows as words; a code not in ``WORDS`` is shown as it is."""

SHEET_TEXT = {"en": ("bonus", "columns", ("Column", "Key in CSV and JSON", "What it holds")),
              "ru": ("премии", "столбцы", ("Столбец", "Ключ в CSV и JSON", "Что в нём"))}


def language(lang: str | None) -> str:
    return lang if lang in LANGUAGES else "en"


def header(column: str, lang: str) -> str:
    return COLUMN_TEXT[column][LANGUAGES.index(language(lang))][0]


def explanation(column: str, lang: str) -> str:
    return COLUMN_TEXT[column][LANGUAGES.index(language(lang))][1]


def word(code, lang: str):
    """A tier or row type in words; anything else (None, an unknown code) as it is."""
    return WORDS[code][LANGUAGES.index(language(lang))] if isinstance(code, str) and code in WORDS else code

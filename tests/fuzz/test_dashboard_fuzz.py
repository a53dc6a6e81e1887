"""Property-based fuzzing of every dashboard route: path ids, query filters and form posts.

``ROUTES`` lists every route of the app outside ``/voice/``, ``/api/``, ``/healthz``, ``/readyz`` and
Flask's ``/static`` with the role that may use it, its path ids, query filters and form
fields; a test fails when a route exists without an entry, so a new page cannot be forgotten.
Logged in as that role, with a valid CSRF token, in English or Russian, garbage (missing,
empty, oversized, NUL, any Unicode, out-of-range numbers and dates, unknown ids) must give:

- never a 5xx (the app runs with TESTING, so a crash fails the test with its traceback);
  only the statuses the route declares;
- every message on the page is one of the interface strings in the reader's language;
- a value outside what the field accepts is refused, or ignored *visibly*: a 4xx, or an
  error message (a page that drops a bad filter says so);
- a refusal changes nothing in the database; an accepted change is audit-logged and no
  stored text holds a NUL;
- redirects stay on this site.

And for every route: no login → the login page; a form without the CSRF token → 400; a
role the page is not for → 403 — with nothing changed.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings, strategies as st
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from accounts.invitations import invite
from accounts.users import EMAIL, RING_TO
from callbacks.tasks import open_tasks
from callbacks.worklist import SCOPES, STATE_FILTERS
from callflow.agents import AGENT_ID, PHONE
from dashboard import EXEMPT_PREFIXES
from dashboard.call_list import OUTCOMES, parse_search
from dashboard.i18n import LANGUAGES, InputError
from dashboard.paging import MAX_PAGE
from dashboard.supervise import SORTS, TRACED
from store.accounts import ROLES, ApiToken, hash_token
from scoring.outcomes.flags import AGENT_KINDS
from store.callbacks import REASONS, TASK_STATES
from scoring.disputes import open_dispute
from store.base import utcnow
from store.flags import STATES, Flag
from store.models import Base
from store.payroll import EXPORT_FORMATS, ExportFile
from store.users import LOCALES, User
from tests.dashboard import catalog
from tests.dashboard.conftest import Browser
from tests.dashboard.seed import AGENTS, PERIODS, USERS, seed

# No shrinking: every example is a few requests and database snapshots, and shrinking one
# failure can take minutes; the failing example is reported as generated (and is reproducible).
FUZZ = settings(max_examples=15, deadline=None, derandomize=True, phases=(Phase.explicit, Phase.generate),
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
GUARDS = settings(FUZZ, max_examples=4)
NOT_DASHBOARD = {"/healthz", "/readyz", "/static/<path:filename>"}
QUEUES = ("billing", "tech", "sales", "general")

# --- values -------------------------------------------------------------------------------
no_nul = st.characters(codec="utf-8", exclude_characters="\x00")
garbage = st.one_of(
    st.text(no_nul, max_size=20),                                    # control characters, RTL marks, emoji ...
    st.text(no_nul, min_size=300, max_size=3000),                    # oversized
    st.sampled_from(["", " ", "0", "-1", "9" * 30, "1e308", "NaN", "../../etc/passwd", "<b>x</b>", "' OR '1'='1",
                     "\r\nX-Evil: 1", "/x\r\nX-Evil: 1", "%00", "\u202e", "Ünïcødé", "Отчёт", "null", "[]",
                     "//evil.example/x", "/\\evil.example"]),
)
nul = st.sampled_from(["\x00", "a\x00b", "2026-10\x00", "\x00" * 300])


def unknown(allowed) -> st.SearchStrategy:
    """Garbage that is neither empty (= no filter) nor, once stripped, an accepted value."""
    return garbage.filter(lambda v: v.strip() and v.strip() not in set(allowed))


def _parses_as_date(value: str) -> bool:
    try:
        date.fromisoformat(value.strip())
    except ValueError:
        return False
    return True


ABSENT = object()


@dataclass(frozen=True)
class Field:
    """A query, form or path value: what the page accepts, and what it must refuse (or
    visibly ignore). Every field also gets NUL characters, which nothing accepts."""

    valid: st.SearchStrategy = garbage
    invalid: st.SearchStrategy = st.nothing()
    required: bool = False               # leaving it out is a mistake the page must point out
    many: bool = False                   # a multi-valued form field (checkboxes)
    path: bool = False                   # a path segment: always there

    def values(self) -> st.SearchStrategy:
        """(value or ABSENT, acceptable?)"""
        bad = st.one_of(self.invalid, nul.map(lambda v: [v] if self.many else v))
        out = [self.valid.map(lambda v: (v, True)), bad.map(lambda v: (v, False))]
        if not self.path:
            out.insert(0, st.just((ABSENT, not self.required)))
        return st.one_of(*out)


def choice(allowed, *, required=False) -> Field:
    return Field(st.sampled_from(list(allowed)), unknown(allowed), required)


def ids(known, unknown_ids=("0", "999999", "9" * 30, "-1", "1.5")) -> Field:
    """A path id: a known one, or one that names nothing (404)."""
    return Field(st.sampled_from(list(known)),
                 st.one_of(st.sampled_from(list(unknown_ids)),
                           unknown(known).filter(lambda v: v not in (".", "..") and "/" not in v)), path=True)


day = Field(st.dates(date(2026, 1, 1), date(2026, 12, 31)).map(date.isoformat),
            st.one_of(unknown(()).filter(lambda v: not _parses_as_date(v)),
                      st.sampled_from(["0001-01-01", "9999-12-31", "2026-02-30", "2026-13-01"])))
period = choice(PERIODS)
free_text = Field()                                       # anything but NUL is fine (a search box)
RANGE = {"period": period, "from": day, "to": day}


def _is_page(value: str) -> bool:
    v = value.strip()
    return v.isascii() and v.isdigit() and 1 <= int(v) <= MAX_PAGE


def _is_search(value: str) -> bool:
    try:
        parse_search(value)
    except InputError:
        return False
    return True


page = Field(st.integers(1, 40).map(str), unknown(()).filter(lambda v: not _is_page(v)))
search = Field(st.sampled_from(["0001", "+1555 000-0012", "15550000012", "CA000001", "CAnope"]),
               unknown(()).filter(lambda v: not _is_search(v)))
short_text = st.text(no_nul, max_size=40)
password = st.text(no_nul, min_size=10, max_size=60)
active = Field(st.sampled_from(["0", "1"]), unknown(("0", "1")))
ring_to = Field(st.sampled_from(["", "+15551234567", "client:sup_1"]),
                unknown(()).filter(lambda v: not RING_TO.fullmatch(v.strip())))


def lengths(limit: int) -> Field:
    return Field(st.text(no_nul, max_size=limit).filter(lambda v: len(v.strip()) <= limit),
                 st.text(no_nul, min_size=limit + 1, max_size=limit + 400).filter(lambda v: len(v.strip()) > limit))


AGENT_FORM = {
    "name": lengths(120), "team": lengths(64), "phone": Field(st.sampled_from(["", "+15551234567", "+442071234567"]),
                                                             unknown(()).filter(lambda v: not PHONE.match(v))),
    "skills": Field(st.lists(st.sampled_from(QUEUES), unique=True, max_size=4),
                    st.lists(unknown(QUEUES), min_size=1, max_size=3), many=True),
}


@dataclass(frozen=True)
class Route:
    method: str
    rule: str
    role: str | None                     # who may use it (the least privileged role); None: anyone
    denied: str | None = None            # a logged-in role that may not (403)
    path: dict = field(default_factory=dict)
    query: dict = field(default_factory=dict)
    form: dict = field(default_factory=dict)
    ok: frozenset = frozenset()          # statuses the role may get, besides 400 (NUL) and 404 (unknown ids)

    def __str__(self):
        return f"{self.method} {self.rule}"

    @property
    def statuses(self) -> set[int]:
        return set(self.ok or ({200} if self.method == "GET" else {302})) | {400} | ({404} if self.path else set())


def QUEUE_FILTERS(agents) -> dict:
    """The review queue's filters (on the page, and copied into its bulk form)."""
    return {"state": choice([*STATES, "all"]), "kind": choice(AGENT_KINDS), "agent": choice(agents),
            "team": choice(["north", "south"]), "period": choice(["2026-10"])}


def routes(seeded: dict) -> list[Route]:
    agents = [a for a, _ in AGENTS]
    flag_ids = [str(i) for i in seeded["flags"].values()]
    caller = Field(st.just(seeded["cut_sid"]), unknown([seeded["cut_sid"]]))   # a caller key: one of their CallSids
    calls_query = {**RANGE, "team": choice(["north", "south"]), "agent": choice(agents), "queue": choice(["billing"]),
                   "outcome": choice(OUTCOMES), "q": search, "page": page, "caller": caller}
    return [
        Route("GET", "/", None, ok=frozenset({302})),
        Route("GET", "/login", None, query={"next": free_text}),
        Route("POST", "/login", None, query={"next": free_text}, ok=frozenset({302, 401, 429}),   # 429: throttled
              form={"email": Field(st.sampled_from(["admin@example.com", "hr@example.com"]) | garbage),
                    "password": Field(st.sampled_from(["correct horse battery"]) | garbage)}),
        Route("POST", "/logout", None),
        Route("POST", "/lang", None, form={"lang": choice(LANGUAGES), "back": free_text}),
        Route("GET", "/dashboard-static/<path:filename>", None,
              path={"filename": Field(st.just("dashboard.css"),
                                      st.sampled_from(["../__init__.py", "../../aftercall/config.py", "nope.css", "a/b"])
                                      | unknown(["dashboard.css"]), path=True)}),
        Route("GET", "/scorecards", "supervisor",
              query={**RANGE, "team": choice(["north", "south"]), "sort": choice(SORTS), "dir": choice(["asc", "desc"]),
                     "page": page}),
        Route("GET", "/scorecards.csv", "supervisor",
              query={**RANGE, "team": choice(["north", "south"]), "sort": choice(SORTS), "dir": choice(["asc", "desc"])}),
        Route("GET", "/agents/<agent_id>", "supervisor", path={"agent_id": ids(agents)},
              query={**RANGE, "calls_page": page, "flags_page": page}),
        Route("GET", "/agents/<agent_id>/calls/<metric>", "supervisor",
              path={"agent_id": ids(agents), "metric": ids(TRACED, ("confirmed_flags", "x", "0"))},
              query={**RANGE, "page": page}),
        Route("GET", "/handle-time", "supervisor", query={**RANGE, "team": choice(["north", "south"])}),
        Route("GET", "/calls", "supervisor", "hr", query=calls_query),
        Route("GET", "/calls.csv", "supervisor", "hr", query=calls_query),
        Route("GET", "/calls/<sid>", "supervisor", "hr", path={"sid": ids([seeded["cut_sid"]])}),
        Route("GET", "/calls/<sid>/words/<recording_sid>.mp3", "supervisor", "hr",   # none seeded: always 404
              path={"sid": ids([seeded["cut_sid"]]), "recording_sid": ids(["RE" + "0" * 32])}, ok=frozenset({404})),
        Route("GET", "/flags", "supervisor", "hr",
              query={**QUEUE_FILTERS(agents), "page": Field(st.integers(1, 3).map(str), unknown(()).filter(
                  lambda v: not (v.strip().isdecimal() and 0 < int(v.strip()) < 10**6)))}),
        Route("GET", "/flags.csv", "supervisor", "hr", query=QUEUE_FILTERS(agents)),
        Route("GET", "/flags/<id:flag_id>", "supervisor", "hr", path={"flag_id": ids(flag_ids)}),
        Route("POST", "/flags/review", "supervisor", "hr",
              form={**QUEUE_FILTERS(agents), "scope": choice(["selected", "matching"]),
                    "ids": Field(st.lists(st.sampled_from(flag_ids), min_size=1, max_size=3, unique=True),
                                 st.lists(unknown(flag_ids), min_size=1, max_size=3), many=True),
                    "decision": choice(["confirm", "dismiss"], required=True),
                    "comment": Field(short_text.filter(str.strip), st.sampled_from(["", "   "]), required=True),
                    "back": free_text}),
        Route("POST", "/flags/<id:flag_id>/review", "supervisor", "hr",
              path={"flag_id": ids(flag_ids)},
              form={"decision": choice(["confirm", "dismiss"], required=True),
                    "comment": Field(short_text.filter(str.strip), st.sampled_from(["", "   "]), required=True),
                    "back": free_text}),
        Route("GET", "/callbacks", "supervisor", "hr",
              query={"scope": choice(SCOPES), "state": choice(STATE_FILTERS), "reason": choice(REASONS),
                     "team": choice(["north", "south"]), "agent": choice(agents), "overdue": choice(["1"]),
                     "caller": caller,
                     "page": Field(st.integers(1, 10**6 - 1).map(str), unknown(()).filter(
                         lambda v: not (v.strip().isascii() and v.strip().isdigit() and 0 < int(v) < 10**6)))}),
        Route("GET", "/at-risk", "supervisor", "hr", query={"page": page}),
        Route("POST", "/callbacks/<id:task_id>/state", "supervisor", "hr",
              path={"task_id": ids([str(i) for i in seeded["tasks"]])},
              form={"state": choice(TASK_STATES, required=True), "note": lengths(500), "back": free_text}),
        Route("POST", "/callbacks/<id:task_id>/assign", "supervisor", "hr",
              path={"task_id": ids([str(i) for i in seeded["tasks"]])},
              form={"owner": Field(st.sampled_from(seeded["supervisors"] or ["1"]),
                                   unknown(seeded["supervisors"]), required=True), "back": free_text}),
        Route("POST", "/callbacks/<id:task_id>/call", "supervisor", "hr",
              path={"task_id": ids([str(i) for i in seeded["tasks"]])}, form={"back": free_text}),
        Route("GET", "/profile", "supervisor"),
        Route("POST", "/profile", "supervisor", form={"ring_to": ring_to, "locale": choice(["en", "ru"])}),
        Route("GET", "/hr/periods", "hr", "supervisor"),
        Route("GET", "/hr/periods/<key>/lock", "hr", "supervisor", ok=frozenset({200, 302}),   # 302: locked already
              path={"key": ids(PERIODS, ("2020-01", "2030-12", "2026-W47", "2026-13"))}),
        Route("POST", "/hr/periods/<key>/lock", "hr", "supervisor",
              path={"key": ids(PERIODS, ("2020-01", "2030-12", "2026-W47", "2026-13"))},
              form={"reason": Field(short_text.filter(str.strip),
                                    st.one_of(st.sampled_from(["", "   "]),
                                              st.text(no_nul, min_size=501, max_size=900)
                                              .filter(lambda v: len(v.strip()) > 500)), required=True)}),
        Route("POST", "/hr/periods/<key>/export", "hr", "supervisor",
              path={"key": ids(PERIODS, ("2020-01", "2026-W47"))}, form={"fmt": choice(EXPORT_FORMATS)}),
        Route("GET", "/hr/exports/<id:export_id>", "hr", "supervisor", path={"export_id": ids([seeded["export"]])}),
        Route("GET", "/hr/audit", "hr", "supervisor", query={"action": free_text, "actor": free_text, "page": page}),
        Route("GET", "/admin/users", "admin", "hr"),
        Route("POST", "/admin/users", "admin", "supervisor", ok=frozenset({200, 302}),   # 200: the invitation link
              form={"email": Field(st.from_regex(r"[a-z]{1,12}@example\.(com|org)", fullmatch=True),
                                   unknown(()).filter(lambda v: not EMAIL.match(v.strip().lower())), required=True),
                    "password": Field(password | st.just(""), st.text(no_nul, min_size=1, max_size=9)),
                    "role": choice(ROLES, required=True), "locale": choice(LOCALES), "name": lengths(120),
                    "agent_id": Field(st.sampled_from(["", *agents]), unknown(agents))}),
        Route("POST", "/admin/users/<id:user_id>/invite", "admin", "hr", ok=frozenset({200}),
              path={"user_id": ids(seeded["other_users"])}),
        Route("POST", "/admin/users/<id:user_id>", "admin", "hr",
              path={"user_id": ids(seeded["other_users"])},   # not the fuzzing admin: a role change would log it out
              form={"role": choice(ROLES), "locale": choice(LOCALES), "active": active, "ring_to": ring_to,
                    "agent_id": Field(st.sampled_from(["", *agents]), unknown(agents)),
                    "password": Field(password | st.just(""), st.text(no_nul, min_size=1, max_size=9).filter(str.strip))}),
        Route("GET", "/admin/agents", "admin", "supervisor"),
        Route("POST", "/admin/agents", "admin", "hr",
              form={"id": Field(st.from_regex(AGENT_ID.pattern.replace("$", r"\Z"), fullmatch=True),
                                unknown(()).filter(lambda v: not AGENT_ID.match(v)), required=True), **AGENT_FORM}),
        Route("POST", "/admin/agents/<agent_id>", "admin", "hr", path={"agent_id": ids(agents)},
              form={**AGENT_FORM, "active": active}),
        Route("GET", "/admin/tokens", "admin", "supervisor"),
        Route("POST", "/admin/tokens", "admin", "hr", ok=frozenset({200, 302}),
              form={"name": Field(st.text(no_nul, min_size=1, max_size=120).filter(str.strip),
                                  st.text(no_nul, min_size=121, max_size=500), required=True),
                    "role": choice(ROLES, required=True),
                    "agent_id": Field(st.sampled_from(["", *agents]), unknown(agents))}),
        Route("POST", "/admin/tokens/<id:token_id>/revoke", "admin", "hr",
              path={"token_id": ids([seeded["token"]])}),
        Route("GET", "/admin/definitions", "admin", "supervisor"),
        Route("GET", "/me", "agent", "supervisor", query={**RANGE, "calls_page": page}),
        Route("POST", "/me/flags/<id:flag_id>/dispute", "agent", "supervisor",
              path={"flag_id": ids(seeded["own_flags"], ("0", "999999", "9" * 30, *seeded["others_flags"]))},
              form={"reason": Field(short_text.filter(str.strip),
                                    st.one_of(st.sampled_from(["", "   "]), st.text(no_nul, min_size=2001, max_size=2400)
                                              .filter(lambda v: len(v.strip()) > 2000)), required=True),
                    "back": free_text}),
        Route("POST", "/flags/disputes/<id:dispute_id>/decide", "supervisor", "hr",
              path={"dispute_id": ids(seeded["disputes"])},
              form={"decision": choice(["accept", "reject"], required=True),
                    "comment": Field(short_text.filter(str.strip), st.sampled_from(["", "   "]), required=True)}),
        Route("GET", "/invite/<token>", None, ok=frozenset({200, 429}), path={"token": ids([seeded["invitation"]])}),
        Route("POST", "/invite/<token>", None, ok=frozenset({302, 400, 429}), path={"token": ids([seeded["invitation"]])},
              form={"password": Field(password), "again": Field(password)}),
    ]


# Routes are built from the seeded ids, but parametrised by name so collection needs no database.
ROUTE_NAMES = [str(r) for r in routes({"cut_sid": "", "flags": {}, "export": "", "other_users": [], "token": "",
                                        "tasks": [], "supervisors": [], "own_flags": [], "others_flags": [],
                                        "disputes": [], "invitation": ""})]


@pytest.fixture
def seeded(app, database):
    out = seed(database)
    with database.session() as s:
        token = ApiToken(name="fuzz", role="hr", token_hash=hash_token("fuzz-token"))
        export = ExportFile(period_key=PERIODS[0], fmt="csv", filename=f"bonus-{PERIODS[0]}.csv", checksum="0" * 64,
                            size=3, content=b"a,b", created_by="seed")
        s.add_all([token, export])
        s.flush()
        out.update(token=str(token.id), export=str(export.id))
    with database.session() as s:
        out["other_users"] = [str(u.id) for u in s.scalars(select(User).where(User.role != "admin"))]
        out["supervisors"] = [str(u.id) for u in s.scalars(select(User).where(User.role.in_(["supervisor", "admin"])))]
        out["tasks"] = [t.id for t in open_tasks(s, app.config["MENU"].hours, lookback_days=100000)]
    with database.session() as s:   # the agent user is dan: his flags are his own, the others' are not
        for f in s.scalars(select(Flag)):
            f.created_at = utcnow()
        out["own_flags"] = [str(i) for k, i in out["flags"].items() if k in ("cap-cut", "cap-cliff")]
        out["others_flags"] = [str(i) for k, i in out["flags"].items() if k not in ("cap-cut", "cap-cliff")]
        out["disputes"] = [str(open_dispute(s, "dan", out["flags"]["cap-cliff"], "seeded", actor="seed",
                                            window_days=7).id)]
        out["invitation"] = invite(s, s.scalar(select(User).where(User.email == USERS["agent_ann"])), actor="seed",
                                   hours=24)
    return out


def route_named(name: str, seeded: dict) -> Route:
    return next(r for r in routes(seeded) if str(r) == name)


def test_every_dashboard_route_is_fuzzed(app):
    routed = {f"{m} {r.rule}" for r in app.url_map.iter_rules()
              if not r.rule.startswith(EXEMPT_PREFIXES) and r.rule not in NOT_DASHBOARD
              for m in r.methods - {"HEAD", "OPTIONS"}}
    assert routed == set(ROUTE_NAMES)
    assert len(ROUTE_NAMES) == len(set(ROUTE_NAMES))


# --- what a response may say ----------------------------------------------------------------
MESSAGES = {lang: [p for pair in catalog.pairs() if (p := catalog.pattern(pair[i])) is not None]
            for i, lang in enumerate(LANGUAGES)}
FLASH = re.compile(r'<p class="flash (\w+)[^"]*"[^>]*>(.*?)</p>', re.S)


def messages(client, resp) -> list[tuple[str, str]]:
    """The (category, text) messages the response shows, or will show after its redirect."""
    with client.session_transaction() as sess:
        pending = [tuple(m) for m in sess.pop("_flashes", [])]
    if resp.mimetype != "text/html":
        return pending
    shown = [(cat, html.unescape(re.sub(r"<code[^>]*>.*?</code>|<[^>]+>", "", text).strip()))   # <code> is data
             for cat, text in FLASH.findall(resp.get_data(as_text=True))]
    return pending + shown


def snapshot(database) -> dict:
    """The tables a refused request must leave alone; a failed login's audit row is its intended trace."""
    tables = ("users", "agents", "api_tokens", "flags", "pay_periods", "jobs", "export_files", "audit_log")
    with database.engine.connect() as conn:
        return {name: sorted((tuple(row) for row in conn.execute(select(Base.metadata.tables[name]))
                              if name != "audit_log" or row.action != "user.login_failed"), key=repr)
                for name in tables}


def _holds_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_holds_nul(v) for v in value)
    return False


# --- sending --------------------------------------------------------------------------------
def url_for_rule(rule: str, path: dict) -> str:
    def fill(m):
        converter, name = m.group(1) or "", m.group(2)
        return quote(path[name], safe="/" if converter.startswith("path") else "")
    return re.sub(r"<(?:([\w]+(?:\([^)]*\))?):)?(\w+)>", fill, rule)


def _pairs(values: dict) -> list[tuple[str, str]]:
    return [(k, item) for k, v in values.items() if v is not ABSENT for item in (v if isinstance(v, list) else [v])]


def send(browser: Browser, route: Route, path: dict, query: dict, form: dict, *, csrf: bool = True):
    url = url_for_rule(route.rule, path)
    if route.method == "GET":
        return browser.client.get(url, query_string=_pairs(query))
    data = MultiDict(_pairs(form))
    if csrf:
        data["csrf_token"] = browser.token
    return browser.client.post(url, query_string=_pairs(query), data=data)


def fresh_token(browser: Browser) -> None:
    """Logging in or out starts a new session, and with it a new CSRF token."""
    with browser.client.session_transaction() as sess:
        has = "csrf_token" in sess
    if not has or browser.token is None:
        browser.get("/login")


def inputs(route: Route):
    def group(fields: dict):
        return st.fixed_dictionaries({k: f.values() for k, f in fields.items()})
    extra = st.dictionaries(st.text(no_nul, min_size=1, max_size=12).filter(lambda k: k != "csrf_token"),
                            garbage, max_size=2)
    return st.tuples(group(route.path), group(route.query), group(route.form), extra)


def split(values: dict) -> tuple[dict, list[str]]:
    return {k: v for k, (v, _) in values.items()}, [k for k, (v, ok) in values.items() if not ok]


def client_for(app, role: str | None) -> Browser:
    browser = Browser(app.test_client())
    if role:
        browser.login(role)
    else:
        browser.get("/login")
    return browser


# Each also sent in every field at once, in an explicit example per value: a one-in-hundreds
# draw for random generation, and exactly what breaks a Location header, a driver or a date.
NASTY = ["\x00", "/x\r\nX-Evil: 1", "9" * 30, "-1", "0001-01-01", "9999-12-31", "x" * 5000, "\u202e", "", " "]


def nasty_examples(route: Route):
    """``@example``s with one of NASTY in every field (no claim about which are acceptable:
    these look for crashes, stray messages and half-saved records)."""
    def fill(fields: dict, value: str) -> dict:
        return {k: ([value] if f.many else value, True) for k, f in fields.items()}

    def decorate(test):
        for i, value in enumerate(NASTY):
            segment = value.replace("/", "")   # empty segments and slashes are werkzeug's business (308 redirects)
            if route.path and not segment:
                continue
            values = (fill(route.path, segment), fill(route.query, value), fill(route.form, value), {})
            test = example(values=values, lang=LANGUAGES[i % len(LANGUAGES)])(test)
        return test
    return decorate


# --- the properties ---------------------------------------------------------------------------
def refuses_or_ignores_visibly(route: Route, browser: Browser, database):
    """Garbage, as the role that may use the route: never a crash, a message in the reader's
    language, bad values refused or visibly ignored, refusals change nothing."""
    @FUZZ
    @given(values=inputs(route), lang=st.sampled_from(LANGUAGES))
    @nasty_examples(route)
    def check(values, lang):
        (path, bad_path), (query, bad_query), (form, bad_form) = (split(v) for v in values[:3])
        extra = values[3]
        if "period" in route.query and values[1]["period"][0] is not ABSENT and "period" not in bad_query:
            bad_query = [k for k in bad_query if k not in ("from", "to")]   # a period wins; the dates are not read
        query = {**{k: v for k, v in extra.items() if k not in route.query}, **query}
        if route.method == "POST":
            form = {**{k: v for k, v in extra.items() if k not in route.form}, **form}
        fresh_token(browser)
        with browser.client.session_transaction() as sess:
            sess["lang"] = lang
        before = snapshot(database)
        resp = send(browser, route, path, query, form)
        said = messages(browser.client, resp)
        after = snapshot(database)

        assert resp.status_code in route.statuses, (resp.status_code, said)
        for category, text in said:
            assert any(p.fullmatch(text) for p in MESSAGES[lang]), (lang, category, text)
        refused = resp.status_code >= 400 or any(category == "error" for category, _ in said)
        invalid = bad_path + bad_query + bad_form
        assert refused or not invalid, f"{invalid} accepted silently: {resp.status_code} {said}"
        if refused:
            assert after == before, "a refused request changed the database"
        else:
            changed = [t for t in after if t not in ("audit_log", "jobs") and after[t] != before[t]]
            assert not changed or len(after["audit_log"]) > len(before["audit_log"]), f"{changed} changed, not audited"
            assert not any(_holds_nul(v) for rows in after.values() for row in rows for v in row)
        if resp.status_code == 302:
            target = urlsplit(resp.headers["Location"])
            assert target.netloc in ("", "localhost") and target.path.startswith("/"), resp.headers["Location"]
    return check


def checks_login_csrf_and_role_first(route: Route, app, allowed: Browser, database):
    """Whatever the input: no login → the login page, no CSRF token → 400, the wrong role → 403."""
    anonymous = client_for(app, None)
    denied = client_for(app, route.denied) if route.denied else None

    @GUARDS
    @given(values=inputs(route))
    def check(values):
        (path, _), (query, _), (form, _) = (split(v) for v in values[:3])
        before = snapshot(database)
        if route.role:
            resp = send(anonymous, route, path, query, form)
            assert resp.status_code in (302, 400, 404), resp.status_code     # 400: NUL, 404: no such route
            if resp.status_code == 302:
                assert urlsplit(resp.headers["Location"]).path == "/login"
        if route.method == "POST":
            fresh_token(allowed)
            assert send(allowed, route, path, query, form, csrf=False).status_code == 400
        if denied is not None:
            fresh_token(denied)
            assert send(denied, route, path, query, form).status_code in (403, 400, 404)
        assert snapshot(database) == before
    return check


@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_every_route_under_garbage(app, database, seeded, name):
    """Both properties in one test, so each route and backend is seeded once."""
    route = route_named(name, seeded)
    browser = client_for(app, route.role)
    checks_login_csrf_and_role_first(route, app, browser, database)()
    refuses_or_ignores_visibly(route, browser, database)()

"""Schema-driven fuzzing of the JSON API from its own OpenAPI document.

Every operation in ``/api/openapi.json`` gets garbage path ids, query strings, bodies and
tokens (and JSON nested 100,000 deep, ids beyond any INTEGER); the answer is never a 5xx, its
status is one the document declares for that operation, and errors are JSON ``{"error": ...}``. The document must cover every ``/api`` route.
"""
from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from store.accounts import ApiToken, hash_token
from webhooks.openapi import spec

TOKENS = {"admin": "Bearer fuzz-admin", "supervisor": "Bearer fuzz-sup", "hr": "Bearer fuzz-hr",
          "agent": "Bearer fuzz-agent", "garbage": "Bearer nope", "none": None}
FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
OPERATIONS = [(path, method) for path, item in spec()["paths"].items()
              for method in item if method in {"get", "post", "put", "patch", "delete"}]

texts = st.one_of(st.text(max_size=30), st.text(min_size=100, max_size=3000), st.sampled_from(["", "\x00", "a\x00b"]))
json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), texts)
json_any = st.recursive(json_leaf, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                           st.dictionaries(texts, inner, max_size=4)), max_leaves=10)
field_values = {
    "id": st.one_of(st.from_regex(r"[A-Za-z0-9_.-]{1,64}", fullmatch=True), json_any),
    "skills": st.one_of(st.lists(st.sampled_from(["billing", "tech", "sales", "general", "nope"]), max_size=3), json_any),
    "presence": st.one_of(st.sampled_from(["available", "busy", "wrap-up", "offline"]), json_any),
    "phone": st.one_of(st.sampled_from(["+15551234567", None, ""]), json_any),
    "name": json_any, "team": json_any, "active": st.one_of(st.booleans(), json_any),
}
agent_body = st.fixed_dictionaries({}, optional=field_values)
deep = st.integers(min_value=30, max_value=100_000).map(lambda n: b"[" * n)   # recursion, not data
bodies = st.one_of(agent_body, json_any.map(json.dumps).map(str.encode), st.binary(max_size=200), deep)
agent_ids = st.one_of(st.just("alice"), st.just("2026-11"), st.from_regex(r"[0-9]{1,12}", fullmatch=True),
                      st.from_regex(r"[A-Za-z0-9_.-]{1,64}", fullmatch=True),
                      st.from_regex(r"-?[0-9]{10,30}", fullmatch=True),    # beyond an INTEGER column
                      st.text(min_size=1, max_size=300).filter(lambda t: "/" not in t and t not in (".", "..")))


@pytest.fixture
def client(app, database):
    from callflow.agents import create_agent
    with database.session() as s:
        s.add(ApiToken(name="a", role="admin", token_hash=hash_token("fuzz-admin")))
        s.add(ApiToken(name="s", role="supervisor", token_hash=hash_token("fuzz-sup")))
        s.add(ApiToken(name="h", role="hr", token_hash=hash_token("fuzz-hr")))
        create_agent(s, {"id": "alice", "skills": ["billing"]}, app.config["MENU"].queues)
        s.flush()
        s.add(ApiToken(name="g", role="agent", agent_id="alice", token_hash=hash_token("fuzz-agent")))
    return app.test_client()


def test_document_covers_every_api_route(app):
    documented = {(re.sub(r"\{(\w+)\}", r"<\1>", p), m.upper()) for p, m in OPERATIONS}
    routed = {(re.sub(r"<[^:<>]+:", "<", r.rule), m) for r in app.url_map.iter_rules() if r.rule.startswith("/api")
              for m in r.methods - {"HEAD", "OPTIONS"}}
    assert routed == documented
    assert app.test_client().get("/api/openapi.json").json["openapi"].startswith("3.")


@pytest.mark.parametrize("path,method", OPERATIONS)
def test_garbage_never_5xx_and_status_is_documented(client, path, method, caplog):
    declared = {int(code) for code in spec()["paths"][path][method]["responses"]}

    @FUZZ
    @given(agent_id=agent_ids, token=st.sampled_from(list(TOKENS)), body=bodies,
           query=st.dictionaries(st.sampled_from(["team", "x"]), texts, max_size=2))
    def check(agent_id, token, body, query):
        headers = {"Authorization": TOKENS[token]} if TOKENS[token] else {}
        url = re.sub(r"\{\w+\}", lambda _: quote(agent_id, safe=""), path)
        kwargs = {"json": body} if isinstance(body, dict) else {"data": body, "content_type": "application/json"}
        resp = client.open(url, method=method.upper(), headers=headers, query_string=query, **kwargs)
        assert resp.status_code < 500, resp.data
        assert resp.status_code in declared, (resp.status_code, resp.data)
        if resp.status_code >= 400:   # routing refusals too (an id no route matches): JSON
            assert isinstance(resp.json.get("error"), str)
    check()
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []

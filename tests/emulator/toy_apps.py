"""Small Flask apps the emulator is tested against.

`scripted_app` answers each path with TwiML from a function of the form, so a
test can exercise one verb; `call_center_app` is a miniature Aftercall (IVR,
queues with a waitUrl loop, agent presence API, Dial, keypad survey). Both
check X-Twilio-Signature with twilio's RequestValidator and log every request.
"""

from __future__ import annotations

import threading

from flask import Flask, abort, jsonify, request
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse

TOKEN = "test-auth-token"
API_TOKEN = "test-api-token"


def _base(token: str) -> Flask:
    app = Flask(__name__)
    app.config["LOG"] = []
    app.config["BAD_SIGNATURES"] = 0
    validator = RequestValidator(token)

    @app.before_request
    def check_signature():
        if request.path.startswith("/api/"):
            if request.headers.get("Authorization") != f"Bearer {API_TOKEN}":
                abort(401)
            return None
        ok = validator.validate(request.url, request.form.to_dict(), request.headers.get("X-Twilio-Signature", ""))
        app.config["LOG"].append({
            "path": request.path, "method": request.method, "url": request.url,
            "form": request.form.to_dict(), "args": request.args.to_dict(),
            "token": request.headers.get("I-Twilio-Idempotency-Token"), "signature_ok": ok})
        if not ok:
            app.config["BAD_SIGNATURES"] += 1
            abort(403)
        return None

    @app.post("/status")
    def status():
        return "", 204

    return app


def scripted_app(routes: dict, token: str = TOKEN) -> Flask:
    """`routes`: path -> function(form dict) returning TwiML text, or (body, status[, content type])."""
    app = _base(token)

    def handler(path):
        fn = routes.get("/" + path)
        if fn is None:
            abort(404)
        out = fn({**request.args.to_dict(), **request.form.to_dict()})
        if isinstance(out, tuple):
            body, status, *ctype = out
            return body, status, {"Content-Type": ctype[0] if ctype else "text/xml"}
        return str(out), 200, {"Content-Type": "text/xml"}

    app.add_url_rule("/<path:path>", "scripted", handler, methods=["GET", "POST"])
    return app


def call_center_app(token: str = TOKEN) -> Flask:
    """IVR (language, menu) -> queue -> agent with the skill -> survey of three questions."""
    app = _base(token)
    lock = threading.Lock()
    agents: dict[str, dict] = {}
    calls: dict[str, dict] = {}
    app.config["AGENTS"], app.config["CALLS"] = agents, calls
    queues = {"1": "billing", "2": "tech", "3": "sales"}

    @app.post("/api/agents")
    def create_agent():
        body = request.get_json()
        with lock:
            agents[body["id"]] = {**body, "presence": "offline"}
        return jsonify(body), 201

    @app.put("/api/agents/<agent_id>/presence")
    def presence(agent_id):
        with lock:
            agents[agent_id]["presence"] = request.get_json()["presence"]
        return jsonify(ok=True)

    @app.post("/voice/status")
    def voice_status():
        return "", 204

    @app.post("/voice/incoming")
    def voice():
        r = VoiceResponse()
        g = r.gather(num_digits=1, action="../ivr/language", timeout=5)
        g.say("For English press one. Для русского нажмите два.")
        r.redirect("incoming")
        return str(r)

    @app.post("/ivr/language")
    def language():
        r = VoiceResponse()
        calls.setdefault(request.form["CallSid"], {})["lang"] = request.form["Digits"]
        g = r.gather(num_digits=1, action="menu", timeout=5)
        g.say("For billing press one, for technical support press two, for sales press three.")
        r.say("We did not get your choice.")
        r.redirect("language-again")
        return str(r)

    @app.post("/ivr/language-again")
    def language_again():
        r = VoiceResponse()
        g = r.gather(num_digits=1, action="menu", timeout=5)
        g.say("For billing press one, for technical support press two, for sales press three.")
        r.hangup()
        return str(r)

    @app.post("/ivr/menu")
    def menu():
        r = VoiceResponse()
        queue = queues.get(request.form.get("Digits", ""))
        if queue is None:
            r.say("Sorry, that is not a valid choice.")
            r.redirect("language-again")
            return str(r)
        calls.setdefault(request.form["CallSid"], {})["queue"] = queue
        r.enqueue(queue, wait_url="/queue/wait", action="/queue/done")
        return str(r)

    def free_agent(queue: str):
        for agent in agents.values():
            if agent["presence"] == "available" and queue in agent["skills"]:
                return agent
        return None

    @app.post("/queue/wait")
    def wait():
        r = VoiceResponse()
        queue = calls[request.form["CallSid"]]["queue"]
        with lock:
            agent = free_agent(queue) if request.form["QueuePosition"] == "1" else None
            if agent:
                agent["presence"] = "busy"
                calls[request.form["CallSid"]]["agent"] = agent["id"]
        if agent:
            r.leave()
        else:
            r.say("All our agents are busy. Please hold.")
            r.pause(length=15)
        return str(r)

    @app.post("/queue/done")
    def queue_done():
        r = VoiceResponse()
        if request.form["QueueResult"] != "leave":
            return str(r)
        d = r.dial(action="/dial/done", timeout=20, time_limit=3600)
        d.client(calls[request.form["CallSid"]]["agent"])
        return str(r)

    @app.post("/dial/done")
    def dial_done():
        r = VoiceResponse()
        call = calls[request.form["CallSid"]]
        call.setdefault("dial_actions", []).append(request.form.to_dict())
        agent = agents[call["agent"]]
        status = request.form["DialCallStatus"]
        with lock:
            agent["presence"] = "wrap-up" if status == "completed" else "offline"
        if request.form["CallStatus"] == "completed":
            return str(r)
        if status != "completed":
            r.enqueue(call["queue"], wait_url="/queue/wait", action="/queue/done")
            return str(r)
        g = r.gather(num_digits=1, action="/survey/1", timeout=5)
        g.say("Was your problem solved? Press one for yes, two for no.")
        return str(r)

    @app.post("/survey/<int:n>")
    def survey(n):
        r = VoiceResponse()
        call = calls[request.form["CallSid"]]
        call.setdefault("survey", []).append(request.form.get("Digits", ""))
        if n == 1:
            g = r.gather(num_digits=1, action="/survey/2", timeout=5)
            g.say("Rate the agent from one to five.")
        elif n == 2:
            g = r.gather(num_digits=1, action="/survey/3", timeout=5)
            g.say("Press one to speak to an agent again, two to finish.")
        elif request.form.get("Digits") == "1":
            r.enqueue(call["queue"], wait_url="/queue/wait", action="/queue/done")
        else:
            r.say("Thank you. Goodbye.")
            r.hangup()
        return str(r)

    return app

"""The baseline: a bare Flask endpoint answering constant TwiML, served by the same gunicorn settings."""
from flask import Flask, Response

TWIML = ('<?xml version="1.0" encoding="UTF-8"?><Response><Gather action="/voice/survey?leg=1&amp;q=1" '
         'method="POST" numDigits="1" timeout="6" actionOnEmptyResult="true"><Say voice="Polly.Joanna" '
         'language="en-US">How satisfied are you overall, from 1 to 5?</Say></Gather></Response>')

app = Flask(__name__)


@app.get("/healthz")
def healthz():
    return {"ok": True}


@app.post("/voice/survey")
def survey():
    return Response(TWIML, mimetype="text/xml")

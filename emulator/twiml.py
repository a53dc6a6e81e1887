"""Parse and validate TwiML the way Twilio's voice engine accepts it.

Twilio refuses a document that is not XML (error 12100, "Document parse
failure") or that breaks the TwiML schema: unknown verbs, wrong nesting
(12200). Either plays "an application error has occurred" and ends the call
(twilio.com/docs/errors/12100, /12200; twilio.com/docs/voice/twiml). So this
module raises `TwiMLError` for both, and the call counts an application error.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

# Verbs Twilio documents for <Response> (twilio.com/docs/voice/twiml).
VERBS = {
    "Say", "Play", "Pause", "Gather", "Redirect", "Hangup", "Enqueue", "Leave", "Dial",
    "Reject", "Record", "Sms", "Connect", "Refer", "Start", "Stop", "Pay", "Prompt", "Echo",
}
# The subset this emulator executes; the rest are real TwiML it cannot emulate.
SUPPORTED = {"Say", "Play", "Pause", "Gather", "Redirect", "Hangup", "Enqueue", "Leave", "Dial", "Reject", "Record"}
# <Gather> may nest only Say, Play and Pause (twilio.com/docs/voice/twiml/gather#nest-other-verbs).
GATHER_CHILDREN = {"Say", "Play", "Pause"}
# <Dial> nouns (twilio.com/docs/voice/twiml/dial#nouns); only Client and Number reach simulated agents.
DIAL_NOUNS = {"Client", "Number", "Sip", "Queue", "Conference", "Application", "WhatsApp"}
# Allowed in an <Enqueue> waitUrl document (twilio.com/docs/voice/twiml/enqueue#attributes-wait-url).
WAIT_VERBS = {"Play", "Say", "Pause", "Gather", "Redirect", "Leave", "Hangup"}
# <Client> may carry <Identity>/<Parameter>; <Number> carries only its number.
NOUN_CHILDREN = {"Client": {"Identity", "Parameter"}, "Number": set()}


class TwiMLError(Exception):
    """The document is not TwiML Twilio would run; `code` is Twilio's error code."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


@dataclass
class Verb:
    name: str
    attrs: dict[str, str]
    text: str = ""
    children: list["Verb"] = field(default_factory=list)

    def attr(self, name: str, default: str | None = None) -> str | None:
        return self.attrs.get(name, default)

    def canonical(self) -> tuple:
        return (self.name, tuple(sorted(self.attrs.items())), self.text,
                tuple(c.canonical() for c in self.children))


@dataclass
class Document:
    """A fetched TwiML document and the URL it came from (base for relative URLs)."""

    url: str
    verbs: list[Verb]

    def canonical(self) -> tuple:
        return tuple(v.canonical() for v in self.verbs)


def equivalent(a: bytes, b: bytes) -> bool:
    """Same TwiML up to formatting and attribute order (how duplicate answers are compared)."""
    if a == b:
        return True
    try:
        return parse(a, "").canonical() == parse(b, "").canonical()
    except TwiMLError:
        return False


def parse(body: str | bytes, url: str) -> Document:
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise TwiMLError(f"not XML: {exc}", 12100) from None
    if root.tag != "Response":
        raise TwiMLError(f"root element is <{root.tag}>, not <Response>", 12100)
    return Document(url=url, verbs=[_verb(el) for el in root])


def _verb(el: ET.Element) -> Verb:
    if el.tag not in VERBS:
        raise TwiMLError(f"unknown verb <{el.tag}>", 12200)
    verb = _node(el)
    if el.tag == "Gather":
        for child in verb.children:
            if child.name not in GATHER_CHILDREN:
                raise TwiMLError(f"<{child.name}> cannot be nested in <Gather>", 12200)
    elif el.tag == "Dial":
        for child in verb.children:
            if child.name not in DIAL_NOUNS:
                raise TwiMLError(f"<{child.name}> cannot be nested in <Dial>", 12200)
        if verb.children and verb.text:
            raise TwiMLError("<Dial> mixes a number in its text with nouns", 12200)
    elif verb.children:  # (<Say>'s SSML children were folded into its text by _node)
        raise TwiMLError(f"<{el.tag}> cannot contain <{verb.children[0].name}>", 12200)
    return verb


def _node(el: ET.Element) -> Verb:
    if el.tag == "Say":
        text = " ".join("".join(el.itertext()).split())
        return Verb("Say", dict(el.attrib), text)
    children = [_node(c) for c in el]
    if el.tag in NOUN_CHILDREN and children:
        bad = [c.name for c in children if c.name not in NOUN_CHILDREN[el.tag]]
        if bad:
            raise TwiMLError(f"<{bad[0]}> cannot be nested in <{el.tag}>", 12200)
    return Verb(el.tag, dict(el.attrib), (el.text or "").strip(), children)

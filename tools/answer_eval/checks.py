"""Does a reply meet an expectation? Checked against the guide and domain.yml.

Expectations (the ``expect`` of a probe or turn; a list means "any of these"):

``<section>:<item>``   e.g. ``treatment:surgical_removal``: the reply contains the
                       item's text exactly as the guide words it.
``<section>``          e.g. ``types``: the reply contains the section heading and
                       every item title (in message text or button titles).
                       ``overview`` (what / why / how found): the overview heading.
``full:<section>``     the whole section, e.g. after "tell me more" on a summary:
                       the reply contains every item's text (overview: its intro).
``emergency``          the FIRST bot message of the turn is the emergency advice
                       (it contains "medical emergency").
``booking``            the reply mentions "appointment" or "second opinion", is not
                       a guide answer and is not one of the fallback replies.
``out_of_scope``, ``diagnosis``, ``greet``, ``goodbye``, ``thank``,
``bot_challenge``, ``capabilities``, ``restart``
                       the reply contains that utter_* response of domain.yml (its
                       text before the first ``{placeholder}``).
``handoff``            the hand-off request was filed (utter_handoff_created, or
                       utter_handoff_closed outside STAFF_HOURS, or utter_handoff_exists):
                       the same understanding at any hour of the run.
``deletion``           "forget me" asks for confirmation (the deletion form's question).

A list means "any of these", except a list with ``diagnosis`` and guide expectations
(``[diagnosis, "types:metastatic_calcifications"]``): a personal finding, answered with
the caution AND what the guide says (the caution plus any one of the others).

The reply is every returned message's ``text`` plus every button ``title``; checks
ignore case, repeated whitespace, curly quotes and markdown asterisks.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import yaml

from guide.model import Guide, Item, Section

# Expectation groups answered by a canned response of domain.yml.
CANNED: Dict[str, str] = {
    "greet": "utter_greet",
    "goodbye": "utter_goodbye",
    "thank": "utter_thank",
    "bot_challenge": "utter_bot_challenge",
    "capabilities": "utter_capabilities",
    "out_of_scope": "utter_out_of_scope",
    "diagnosis": "utter_diagnosis",
    "restart": "utter_restart",
    "deletion": "utter_ask_data_deletion_form_deletion_confirmed",
}
# Expectations met by any one of several responses.
CANNED_ANY: Dict[str, Tuple[str, ...]] = {
    "handoff": ("utter_handoff_created", "utter_handoff_closed", "utter_handoff_exists"),
}
DIAGNOSIS = "diagnosis"
EMERGENCY = "emergency"
BOOKING = "booking"
SPECIAL = set(CANNED) | set(CANNED_ANY) | {EMERGENCY, BOOKING}
EMERGENCY_WORDS = "medical emergency"
BOOKING_WORDS = ("appointment", "second opinion")
# Replies that may mention appointments but are not an answer to a booking request.
NOT_BOOKING = ("utter_out_of_scope", "utter_diagnosis", "utter_ask_rephrase",
               "utter_default", "utter_capabilities")
# Replies that may accompany a booking answer (stripped before looking for the words).
BOOKING_NOISE = ("utter_greet", "utter_disclaimer", "utter_restart")
FULL_PREFIX = "full:"

Expect = Union[str, Sequence[str]]
Messages = Sequence[Dict[str, Any]]


# --------------------------------------------------------------------------- checks
def normalize(text: str) -> str:
    """Lower-case, NFKC, straight quotes, no markdown asterisks, single spaces."""
    text = unicodedata.normalize("NFKC", text or "")
    text = (text.replace("\u2019", "'").replace("\u2018", "'")
            .replace("\u201c", '"').replace("\u201d", '"').replace("*", ""))
    return re.sub(r"\s+", " ", text).strip().casefold()


def reply_parts(messages: Messages) -> List[str]:
    """Every message text and every button title, in order."""
    parts: List[str] = []
    for message in messages or ():
        if not isinstance(message, dict):
            continue
        if message.get("text"):
            parts.append(str(message["text"]))
        for button in message.get("buttons") or ():
            if isinstance(button, dict) and button.get("title"):
                parts.append(str(button["title"]))
    return parts


def reply_text(messages: Messages) -> str:
    return "\n".join(reply_parts(messages))


def literal_part(template: str) -> str:
    """The part of a response template to look for: its text before the first
    ``{placeholder}`` (or, if that is too short to mean anything, its longest
    literal stretch)."""
    before = template.split("{", 1)[0].strip()
    if len(before) >= 8 or "{" not in template:
        return before
    pieces = [p.strip() for p in re.split(r"\{[^}]*\}", template)]
    return max(pieces, key=len) if pieces else before


def load_responses(domain_path: Union[str, Path]) -> Dict[str, List[str]]:
    """{utter_name: [literal part of each text variant]} from the domain (a file or a folder)."""
    path = Path(domain_path)
    files = sorted(path.glob("*.yml")) if path.is_dir() else [path]
    responses: Dict[str, Any] = {}
    for file in files:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        responses.update(data.get("responses") or {})
    out: Dict[str, List[str]] = {}
    for name, variants in responses.items():
        texts = [literal_part(v["text"]) for v in variants or ()
                 if isinstance(v, dict) and v.get("text")]
        out[name] = [t for t in texts if t]
    return out


def _heading(section: Section) -> str:
    return normalize(section.heading).rstrip("?:. ")


def _contains(haystack: str, needle: str) -> bool:
    needle = normalize(needle)
    return bool(needle) and needle in haystack


def _has_response(haystack: str, responses: Dict[str, List[str]], name: str) -> bool:
    return any(_contains(haystack, v) for v in responses.get(name, ()))


def is_guide_answer(messages: Messages, guide: Guide) -> bool:
    """Does the reply quote the guide (a heading, a section summary or an item text)?"""
    reply = normalize(reply_text(messages))
    for section in guide.sections.values():
        if _heading(section) in reply:
            return True
        if section.summary and _contains(reply, section.summary):
            return True
        if any(_contains(reply, item.text) for item in section.items):
            return True
    return False


def parse_expect(expect: str, guide: Guide, responses: Optional[Dict[str, List[str]]] = None
                 ) -> Tuple[str, Any]:
    """(kind, target) for one expectation string; ValueError if it means nothing.

    kinds: item (Item), section (Section), full (Section), canned (utter name),
    emergency, booking.
    """
    if not isinstance(expect, str) or not expect.strip():
        raise ValueError(f"empty expectation: {expect!r}")
    expect = expect.strip()
    if expect == EMERGENCY:
        return "emergency", None
    if expect == BOOKING:
        return "booking", None
    if expect in CANNED or expect in CANNED_ANY:
        names = CANNED_ANY.get(expect) or (CANNED[expect],)
        for name in names:
            if responses is not None and not responses.get(name):
                raise ValueError(f"expectation {expect!r}: domain.yml has no {name} text")
        return "canned", names
    if expect.startswith(FULL_PREFIX):
        key = expect[len(FULL_PREFIX):]
        if key not in guide.sections:
            raise ValueError(f"unknown section in {expect!r}")
        return "full", guide.sections[key]
    if ":" in expect:
        item = guide.item(expect)
        if item is None:
            raise ValueError(f"unknown guide item {expect!r}")
        return "item", item
    if expect in guide.sections:
        return "section", guide.sections[expect]
    raise ValueError(f"unknown expectation {expect!r}")


def expect_group(expect: Expect) -> str:
    """Report group: the section key for guide expectations, else the expectation."""
    first = expect if isinstance(expect, str) else (list(expect) or [""])[0]
    if first.startswith(FULL_PREFIX):
        first = first[len(FULL_PREFIX):]
    return first.split(":", 1)[0]


def explain_reply(expect: Expect, messages: Messages, guide: Guide,
                  responses: Dict[str, List[str]]) -> Tuple[bool, str]:
    """(passed, reason) for one reply. A list expectation passes if any member does; a
    finding (``diagnosis`` with guide expectations) needs the caution and one of the others."""
    if not isinstance(expect, str) and DIAGNOSIS in expect and len(expect) > 1:
        ok, why = explain_reply(DIAGNOSIS, messages, guide, responses)
        if not ok:
            return False, f"finding without the caution: {why}"
        ok, why = explain_reply([e for e in expect if e != DIAGNOSIS], messages, guide, responses)
        return ok, (f"caution and {why}" if ok else f"caution only, no guide content: {why}")
    if not isinstance(expect, str):
        reasons = []
        for alternative in expect:
            ok, why = explain_reply(alternative, messages, guide, responses)
            if ok:
                return True, why
            reasons.append(why)
        return False, " / ".join(reasons) or "no expectation"

    kind, target = parse_expect(expect, guide, responses)
    reply = normalize(reply_text(messages))
    if not messages:
        return False, "no reply"

    if kind == "item":
        item: Item = target
        if _contains(reply, item.text):
            return True, "item text found"
        return False, f"missing text of {item.ref}"

    if kind == "section":
        section: Section = target
        if _heading(section) not in reply:
            return False, f"missing heading {section.heading!r}"
        missing = [i.title for i in section.items if not _contains(reply, i.title)]
        if missing:
            return False, f"missing item titles: {', '.join(missing)}"
        return True, "heading and item titles found"

    if kind == "full":
        section = target
        if not section.items:
            return (True, "intro found") if _contains(reply, section.intro) else (
                False, f"missing intro of {section.key}")
        missing = [i.key for i in section.items if not _contains(reply, i.text)]
        if missing:
            return False, f"missing item texts: {', '.join(missing)}"
        return True, "every item text found"

    if kind == "emergency":
        first = normalize(str((messages[0] or {}).get("text") or ""))
        if EMERGENCY_WORDS in first:
            return True, "emergency advice first"
        if EMERGENCY_WORDS in reply:
            return False, "emergency advice present but not the first message"
        return False, "no emergency advice"

    if kind == "canned":
        found = next((name for name in target if _has_response(reply, responses, name)), None)
        if found:
            return True, f"{found} found"
        return False, f"missing {' or '.join(target)}"

    # booking
    if is_guide_answer(messages, guide):
        return False, "a guide answer, not a booking reply"
    fallback = next((n for n in NOT_BOOKING if _has_response(reply, responses, n)), None)
    if fallback:
        return False, f"{fallback}, not a booking reply"
    rest = reply
    for name in BOOKING_NOISE:
        for variant in responses.get(name, ()):
            rest = rest.replace(normalize(variant), " ")
    if any(word in rest for word in BOOKING_WORDS):
        return True, "booking reply"
    return False, "no mention of an appointment or second opinion"


def check_reply(expect: Expect, messages: Messages, guide: Guide,
                responses: Dict[str, List[str]]) -> bool:
    """True if the reply (Rasa REST messages) meets the expectation."""
    return explain_reply(expect, messages, guide, responses)[0]

"""The patient's answers to the booking form, read from plain text: names, contacts,
request types, notes, and whether a message is a question, a confirmation or a
correction. Pure functions, no Rasa objects (days and times: ``times.py``)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Optional, Tuple

from actions.booking.slots import KIND_BY_INTENT

MAX_TEXT = 2000  # longer messages are cut before parsing
MAX_NOTE = 1000
MAX_NAME = 100


# --------------------------------------------------------------------------- text
def single_line(text: Optional[str], limit: int = MAX_TEXT) -> str:
    """The text on one line: NFKC, printable characters, single spaces, at most ``limit``
    characters."""
    text = unicodedata.normalize("NFKC", text or "")[:limit]
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.split())


_FILLER = re.compile(r"^(?:(?:actually|sorry|ok(?:ay)?|oh|um+|hm+|so|and|but|well|wait|"
                     r"hang on|first|quick question|one more thing)[\s,.!:-]*)+", re.I)
_QUESTION_START = re.compile(
    r"^(?:what|whats|what's|why|how|who|whom|whose|which|where|when|is|are|am|can|could|do|"
    r"does|did|should|shall|will|would|may|might|tell me|explain)\b", re.I)
_WH_WORD = re.compile(r"\b(?:what|whats|what's|why|how|who|which|where)\b", re.I)
_CONFIRM = re.compile(r"^(?:yes|yep|yeah|ok(?:ay)?|sure|correct|confirm(?:ed)?|go ahead|send(?: it)?|"
                      r"looks? (?:good|right|fine)|that'?s (?:right|correct|fine)|all (?:good|correct))\b"
                      r"(?!.*\b(?:not|don'?t|no)\b)", re.I)
_CORRECTION = re.compile(
    r"\b(?:actually|instead|change|correct(?:ion)?|wrong|update|rather|make it|move it|"
    r"not\s+\w+\s+but|typo|mistake|meant)\b", re.I)


def is_question(text: str) -> bool:
    stripped = _FILLER.sub("", text.strip())
    return "?" in text or bool(_QUESTION_START.match(stripped)) or bool(_WH_WORD.search(text))


def has_wh_word(text: str) -> bool:
    """Whether "what", "why", "how", "who", "which" or "where" is anywhere in the text."""
    return bool(_WH_WORD.search(text))


def is_confirmation(text: str) -> bool:
    """Whether the text says yes ("yes", "looks good", "send it" ...) with no "not" or "no" after it."""
    return bool(_CONFIRM.match(text))


def is_marked_correction(text: str) -> bool:
    """Whether the text says it corrects something ("actually", "instead", "make it" ...)."""
    return bool(_CORRECTION.search(text))


# ------------------------------------------------------------------------ contact
# An address with a dotted domain and a letter top-level domain (RFC 5321 lengths).
_EMAIL = re.compile(
    r"(?<![\w.+-])([A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)"
    r"@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})(?![\w-])")
_EMAIL_CUE = re.compile(r"@|\be-?mail\b", re.I)
_PHONE_CUE = re.compile(r"\b(?:phone|mobile|cell|tel|telephone|number|landline)\b", re.I)


def find_email(text: str) -> Optional[str]:
    for match in _EMAIL.finditer(text):
        local, domain = match.group(1), match.group(2)
        address = f"{local}@{domain.lower()}"
        if len(local) <= 64 and len(address) <= 254:
            return address
    return None


def find_phone(text: str, region: str) -> Optional[str]:
    """The first valid phone number in the text, as E.164 (+447911123456)."""
    import phonenumbers

    for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
        return phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
    return None


def digit_count(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def mentions_contact(text: str) -> bool:
    return bool(_EMAIL_CUE.search(text)) or digit_count(text) >= 7 or (
        bool(_PHONE_CUE.search(text)) and digit_count(text) >= 5)


@dataclass(frozen=True)
class ContactAnswer:
    email: Optional[str] = None
    phone: Optional[str] = None
    error: Optional[str] = None  # a response name when nothing usable was found


def parse_contact(text: str, region: str) -> ContactAnswer:
    email = find_email(text)
    phone = find_phone(text, region)
    if email or phone:
        return ContactAnswer(email, phone)
    if "@" in text or re.search(r"\be-?mail\b", text, re.I):
        return ContactAnswer(error="utter_booking_invalid_email")
    if digit_count(text) >= 5:
        return ContactAnswer(error="utter_booking_invalid_phone")
    return ContactAnswer(error="utter_booking_invalid_contact")


def contact_display(email: Optional[str], phone: Optional[str]) -> Optional[str]:
    shown = " and ".join(v for v in (email, phone) if v)
    return shown or None


# --------------------------------------------------------------------------- name
_NAME_CUE = re.compile(
    r"\b(?:my\s+(?:full\s+)?name\s+is|my\s+name'?s|(?:full\s+)?name\s*(?:is|:))\s+"
    r"(?P<name>.+?)(?=\s+(?:and|but)\b|[,;!?]|\.\s|\.$|$)", re.I)
_NAME_PREFIX = re.compile(
    r"^(?:(?:my\s+)?(?:full\s+)?name\s*(?:is|:)|my\s+name'?s|i\s+am|i'?m|it'?s|it\s+is|this\s+is)\s+",
    re.I)
_NAME_WORD = re.compile(r"^[^\W\d_]+(?:['’.-][^\W\d_]*)*$")
NOT_NAME_WORDS = {
    "a", "an", "the", "my", "your", "our", "me", "i", "you", "it", "this", "that", "is", "are",
    "am", "was", "do", "does", "did", "can", "could", "would", "should", "will", "what",
    "why", "how", "who", "which", "where", "when", "about", "and", "or", "of", "to", "for",
    "with", "in", "on", "at", "yes", "no", "not", "sure", "ok", "okay", "cancel", "stop",
    "help", "hello", "hi", "hey", "thanks", "thank", "please", "want", "need", "like",
    "know", "dont", "don't", "book", "booking", "appointment", "opinion", "second", "doctor",
    "specialist", "email", "phone", "number", "name", "tomorrow", "today", "next", "week",
    "morning", "afternoon", "evening", "monday", "tuesday", "wednesday", "thursday",
    "friday", "saturday", "sunday", "bye", "goodbye", "nothing", "none", "anonymous",
    "start", "again", "over", "restart", "reset", "human", "person", "someone", "delete",
    "forget", "call", "talk", "speak", "never", "mind", "help", "more",
}


def name_from_cue(text: str) -> Optional[str]:
    match = _NAME_CUE.search(text)
    return match.group("name").strip() if match else None


def parse_name(text: str) -> Optional[str]:
    """The patient's full name (two or more words of letters), or None."""
    name = _NAME_PREFIX.sub("", text.strip()).strip(" .!,;:")
    name = " ".join(name.split())
    words = name.split(" ")
    if not 3 <= len(name) <= MAX_NAME or not 2 <= len(words) <= 6:
        return None
    if not all(_NAME_WORD.match(w) for w in words):
        return None
    if any(w.lower().strip(".'’") in NOT_NAME_WORDS for w in words):
        return None
    # "jane smith" -> "Jane Smith"; "Jane McDonald" and "van der Berg" stay as typed
    if name.islower() or name.isupper():
        name = " ".join(w[:1].upper() + w[1:].lower() for w in words)
    return name


# ---------------------------------------------------------------------------- note
_NO_NOTE = re.compile(
    r"^(?:no|nope|nah|none|nothing|no thanks?|no thank you|n/?a|not really|that'?s (?:all|it)|"
    r"all good|skip|no note|nothing else|nothing to add|thanks?|thank you)\b[\s.!]*$", re.I)


def parse_note(text: str, intent: str) -> Tuple[Optional[str], Optional[str]]:
    if intent == "deny" or _NO_NOTE.match(text):
        return "", None
    if len(text) > MAX_NOTE:
        return None, "utter_booking_note_too_long"
    return text, None


# ------------------------------------------------------------------- request type
def parse_kind(text: str, intent: str) -> Optional[str]:
    if intent in KIND_BY_INTENT:
        return KIND_BY_INTENT[intent]
    lowered = text.lower()
    if re.search(r"\b(?:second|2nd|another|other)\s+opinion|\bopinion\b|\breview\b", lowered):
        return "second_opinion"
    if re.search(r"\b(?:appointment|appt|book|booking|visit|consult(?:ation)?|see\s+(?:a|someone|the))\b", lowered):
        return "appointment"
    return None

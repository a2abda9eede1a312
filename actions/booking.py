"""Booking and second-opinion requests: the ``booking_form`` and its actions.

Flow: ``action_start_booking`` (the request type from the intent, the specialist
from the conversation, a fresh nonce) -> ``booking_form`` asks only for what is
missing -> ``action_ask_booking_form_booking_confirmed`` shows a summary -> on
"yes" ``action_submit_booking`` stores the request (once: the idempotency key is
the conversation id + the nonce), notifies staff and gives the reference.

``validate_booking_form`` reads every answer. Rasa's NLU has no model for names,
e-mails or dates, so the form takes the patient's text and the parsers here make
sense of it (``phonenumbers``, ``dateparser``). A message may also correct another
field ("actually my email is ...") or leave the form: an emergency, "cancel", a
request for a person or for deletion, and a question about the guide are turned
back (no slot filled), so that the rules in data/rules/booking.yml handle them and
the form resumes where it was.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Callable, Dict, List, Optional, Text, Tuple, TypeVar
from zoneinfo import ZoneInfo

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from sqlalchemy.exc import SQLAlchemyError

from actions import notify, resources, storage
from actions.base import DISCLAIMER_SLOT, PatientAction, latest_intent
from actions.knowledge import Guide
from actions.settings import Settings
from actions.storage import NewRequest, StorageError, utcnow

logger = logging.getLogger(__name__)

FORM = "booking_form"
KIND = "booking_kind"
SPECIALIST = "booking_specialist"
NAME = "booking_full_name"
CONTACT = "booking_contact"
EMAIL = "booking_email"
PHONE = "booking_phone"
TIME_TEXT = "booking_time_text"
TIME = "booking_time"
NOTE = "booking_note"
CONFIRMED = "booking_confirmed"
NONCE = "booking_nonce"
REQUIRED = [KIND, SPECIALIST, NAME, CONTACT, TIME_TEXT, NOTE, CONFIRMED]
ALL_SLOTS = REQUIRED + [EMAIL, PHONE, TIME, NONCE]

KIND_BY_INTENT = {"request_appointment": "appointment", "request_second_opinion": "second_opinion"}
KIND_LABELS = {"appointment": "appointment request", "second_opinion": "request for a second opinion"}
NOT_SURE = "Not sure"
MAX_TEXT = 2000  # longer messages are cut before parsing
MAX_NOTE = 1000
MAX_CONCERN = 100
MAX_TIME_TEXT = 200
MAX_NAME = 100
MAX_DAYS_AHEAD = 366

# Intents that always leave the form to their own rule (the form then resumes or ends).
ESCAPE_INTENTS = {"report_emergency", "cancel", "restart", "request_human", "request_data_deletion"}
# Intents answered by the assistant mid-form when the message is a question.
QUESTION_INTENTS = {
    "ask_definition", "ask_causes", "ask_detection", "ask_types", "ask_preparation",
    "ask_treatment", "ask_specialist", "ask_recovery", "ask_followup", "ask_diagnosis",
    "out_of_scope",
}
# ... and these whatever their shape ("help", "tell me more", "are you a bot").
ALWAYS_QUESTIONS = {"ask_more", "ask_capabilities", "bot_challenge"}
# Actions that run as part of the form; anything else after the patient's message
# means the form is resuming after an interruption, not reading an answer.
FORM_MACHINERY = {None, "action_listen", "action_extract_slots", FORM, f"validate_{FORM}",
                  "data_deletion_form", "validate_data_deletion_form"}

T = TypeVar("T")


# --------------------------------------------------------------------------- text
def clean_text(text: Optional[str], limit: int = MAX_TEXT) -> str:
    """Printable text, single spaces, at most ``limit`` characters."""
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


# ---------------------------------------------------------------------- specialist
_NOT_SURE = re.compile(
    r"^(?:i'?m\s+)?(?:not\s+sure|unsure|no\s+idea|don'?t\s+know|i\s+don'?t\s+know|dunno|any(?:one)?|"
    r"anybody|whoever|you\s+decide|no\s+preference|not\s+sure\s+yet|no|nope|idk)\b", re.I)
SUBJECT_ENTITIES = ("lesion_type", "location", "cause")


def specialist_titles(guide: Guide) -> Dict[str, str]:
    return {item.key: item.title for item in guide.section("specialists").items}


def specialist_from_entities(guide: Guide, entities: Dict[str, List[str]]) -> Optional[str]:
    """The one specialist a message's entities point to (a specialist named, or the
    single specialist the guide links to a type, body part or cause), else None."""
    titles = specialist_titles(guide)
    for value in entities.get("specialist", []):
        if value in titles:
            return titles[value]
    for entity in SUBJECT_ENTITIES:
        for value in entities.get(entity, []):
            found = specialist_for(guide, entity, value)
            if found:
                return found
    return None


def specialist_for(guide: Guide, entity: str, value: Optional[str]) -> Optional[str]:
    if not value:
        return None
    concept = guide.concept(entity, value)
    if concept is None:
        return None
    found = guide.related_items("specialists", list(concept.guide_terms) or [value])
    return found[0].title if len(found) == 1 else None


def specialist_from_context(guide: Guide, tracker: Tracker) -> Optional[str]:
    """What the conversation so far points to: the item answered last, else its subject."""
    item_ref = tracker.get_slot("item") or ""
    section, _, key = item_ref.partition(":")
    if section == "specialists":
        item = guide.item(item_ref)
        if item:
            return item.title
    if section == "types":
        found = specialist_for(guide, "lesion_type", key)
        if found:
            return found
    for entity in SUBJECT_ENTITIES:
        found = specialist_for(guide, entity, tracker.get_slot(entity))
        if found:
            return found
    return None


def parse_specialist(guide: Guide, text: str, entities: Dict[str, List[str]],
                     intent: str) -> Tuple[Optional[str], Optional[str]]:
    """(value, error response): a guide specialist, "Not sure", or the concern in the
    patient's words."""
    found = specialist_from_entities(guide, entities)
    if found:
        return found, None
    titles = {t.lower(): t for t in specialist_titles(guide).values()}
    if text.lower().strip(" .!") in titles:
        return titles[text.lower().strip(" .!")], None
    if intent == "deny" or _NOT_SURE.match(text):
        return NOT_SURE, None
    if not re.search(r"[^\W\d_]", text):
        return None, "utter_booking_invalid_specialist"
    if len(text) > MAX_CONCERN:
        return None, "utter_booking_concern_too_long"
    return text, None


# ---------------------------------------------------------------------------- time
# Part of the day -> (the hour it is read as, the hour it ends).
_PART_OF_DAY = [
    (re.compile(r"\bearly\s+morning\b"), (8, 10)), (re.compile(r"\bmornings?\b"), (9, 12)),
    (re.compile(r"\b(?:lunch\s*time|lunch|midday|noon)\b"), (12, 14)),
    (re.compile(r"\bafternoons?\b"), (14, 17)), (re.compile(r"\b(?:evenings?|after\s+work)\b"), (17, 21)),
    (re.compile(r"\btonight\b"), (18, 22)),
]
_EXPLICIT_TIME = re.compile(r"\b\d{1,2}:\d{2}\b|\b\d{1,2}\s*(?:am|pm|a\.m\.|p\.m\.)|\bo'?clock\b|\bnoon\b|\bmidday\b")
_FLEXIBLE = re.compile(
    r"\b(?:any\s*time|anytime|whenever|asap|as\s+soon\s+as\s+possible|soonest|earliest|flexible|"
    r"any\s+day|no\s+preference|don'?t\s+mind|not\s+fussy|weekdays?|weekends?|mornings?|"
    r"afternoons?|evenings?)\b", re.I)
_STRIP = re.compile(
    r"\b(?:any\s+weekday|weekdays?|weekends?|any\s+day|any\s*time|anytime|sometime|some\s+time|"
    r"preferably|ideally|please|if\s+possible|if\s+you\s+can|would\s+be\s+(?:good|great|best|fine|ideal)|"
    r"works(?:\s+for\s+me)?|suits\s+me|is\s+(?:good|best|fine)|or\s+later|onwards|i'?m\s+free|"
    r"i\s+am\s+free|free|how\s+about|(?:can|could)\s+(?:we|you|i)\s+(?:do|come(?:\s+in)?|make\s+it|have\s+it)|"
    r"is\s+there\s+(?:a\s+slot|anything|availability)|do\s+you\s+have\s+(?:anything|a\s+slot)|"
    r"(?:is|would)\s+(?:that|it)\s+(?:possible|ok)|possible|available|maybe|perhaps|around|"
    r"actually|instead|make\s+it|move\s+it\s+to|change\s+it\s+to|i'?d\s+prefer|i\s+prefer|"
    r"prefer|best|good|for\s+me|early|late)\b", re.I)
_MONTHS = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
           r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_ORDINAL_DAY = re.compile(r"\b(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)\b(?:\s+of\b)?", re.I)
# Words that make a message about a day or time; without one dateparser reads too much
# into text ("a second opinion" is not "one second from now").
_TIME_WORD = re.compile(
    rf"\d|\b(?:{_MONTHS}|(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day)?|today|tomorrow|tonight|"
    r"week|weekend|weekday|fortnight|month|year|morning|afternoon|evening|noon|midday|lunch|"
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)s?\b", re.I)
_PAST_WORDS = re.compile(r"\b(?:last|ago|yesterday|previous|earlier\s+today)\b", re.I)
_AFTER = re.compile(r"\b(?:after|from|starting|beginning)\s+", re.I)
_BARE_HOUR = re.compile(r"\bat\s+(\d{1,2})\b(?!\s*(?::|\.|am|pm|a\.m|p\.m|o'?clock|h\b))", re.I)


@dataclass(frozen=True)
class TimeAnswer:
    text: str
    when: Optional[datetime] = None  # local to the clinic; midnight when only a day was given
    date_only: bool = False
    error: Optional[str] = None  # a response name


def _next_day_of_month(day: int, today: date) -> Optional[date]:
    year, month = today.year, today.month
    for _ in range(13):
        try:
            candidate = date(year, month, day)
        except ValueError:
            candidate = None
        if candidate and candidate >= today:
            return candidate
        month += 1
        if month > 12:
            year, month = year + 1, 1
    return None


def parse_preferred_time(text: str, now: datetime, date_order: str = "DMY") -> TimeAnswer:
    """The preferred day and time in the patient's words, read in the clinic's zone.

    ``now`` is aware, in the clinic's time zone. Accepts dates ("next Tuesday
    morning", "the 20th at 9:30", "any weekday after the 3rd") and open preferences
    ("weekday mornings", "as soon as possible"); refuses the past.
    """
    import dateparser
    from dateparser.search import search_dates

    original = clean_text(text, MAX_TIME_TEXT)
    lowered = original.lower()
    if not re.search(r"[a-z0-9]", lowered):
        return TimeAnswer(original, error="utter_booking_time_unclear")
    if _PAST_WORDS.search(lowered):
        return TimeAnswer(original, error="utter_booking_time_past")
    if not _TIME_WORD.search(lowered):
        if _FLEXIBLE.search(lowered):
            return TimeAnswer(original)
        return TimeAnswer(original, error="utter_booking_time_unclear")
    part = next((hours for pattern, hours in _PART_OF_DAY if pattern.search(lowered)), None)
    explicit = bool(_EXPLICIT_TIME.search(lowered))
    weekday_only = bool(re.search(r"\bweekdays?\b", lowered))
    after = bool(_AFTER.search(lowered))

    s = re.sub(r"\btonight\b", " today ", lowered)
    for pattern, _ in _PART_OF_DAY:
        s = pattern.sub(" ", s)
    s = _STRIP.sub(" ", s)
    s = _AFTER.sub(" ", s)
    s = re.sub(r"\b(?:next|this|coming)\s+(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b",
               r"\1", s)
    s = re.sub(r"\bthis\b(?!\s+(?:week|month|year|friday|saturday|sunday|monday|tuesday|wednesday|thursday)\b)",
               " today ", s)  # "this afternoon"
    bare_hours = _BARE_HOUR.findall(s)
    s = _BARE_HOUR.sub(lambda m: f"at {int(m.group(1)) + 12 if 1 <= int(m.group(1)) <= 7 else int(m.group(1))}:00", s)
    explicit = explicit or bool(bare_hours)
    today = now.date()
    if not re.search(rf"\b{_MONTHS}\b", s):
        def ordinal(match: "re.Match[str]") -> str:
            day = _next_day_of_month(int(match.group(1)), today)
            return f" {day.day} {day.strftime('%B')} {day.year} " if day else match.group(0)
        s = _ORDINAL_DAY.sub(ordinal, s)
    s = " ".join(re.sub(r"[,;!?]", " ", s).split())

    settings = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": now.replace(tzinfo=None),
        "TIMEZONE": str(now.tzinfo),
        "RETURN_AS_TIMEZONE_AWARE": True,
        "DATE_ORDER": date_order,
        "PREFER_DAY_OF_MONTH": "first",  # "in April": the 1st, not today's day of the month
    }
    found = dateparser.parse(s, languages=["en"], settings=settings) if s else None
    if found is None and s:
        hits = search_dates(s, languages=["en"], settings=settings) or []
        found = hits[0][1] if hits else None
    if found is None:
        if _FLEXIBLE.search(lowered):
            return TimeAnswer(original)
        return TimeAnswer(original, error="utter_booking_time_unclear")

    zone = now.tzinfo
    local = found.astimezone(zone)
    date_only = not explicit and part is None
    day = local.date()
    if after and date_only:
        day += timedelta(days=1)
    if weekday_only and day.weekday() >= 5:
        day += timedelta(days=7 - day.weekday())
    if date_only:
        when = datetime(day.year, day.month, day.day, tzinfo=zone)
    elif explicit:
        when = datetime(day.year, day.month, day.day, local.hour, local.minute, tzinfo=zone)
    else:
        when = datetime(day.year, day.month, day.day, part[0], 0, tzinfo=zone)
        if day == today and when <= now < when.replace(hour=part[1]):
            # "this afternoon" said at three: from the next full hour
            when = (now + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    if (date_only and day < today) or (not date_only and when <= now):
        return TimeAnswer(original, error="utter_booking_time_past")
    if day > today + timedelta(days=MAX_DAYS_AHEAD):
        return TimeAnswer(original, error="utter_booking_time_far")
    return TimeAnswer(original, when, date_only)


_TIME_LEAD = re.compile(
    r"^(?:(?:actually|sorry|oh|no|ok(?:ay)?|please|instead)[\s,.!:-]+)*(?:(?:make|change|move)\s+(?:it|that|the\s+(?:day|time|date))"
    r"(?:\s+to)?|(?:can|could)\s+(?:we|you)\s+(?:do|make\s+it)|how\s+about|i'?d\s+(?:rather|prefer))?\s*", re.I)


def tidy_time_text(text: str) -> str:
    """The patient's words for the day and time, without "actually, make it ... instead"."""
    tidy = _TIME_LEAD.sub("", text).strip()
    tidy = re.sub(r"[\s,]*\binstead\b[\s.!?]*$", "", tidy, flags=re.I).strip(" ,")
    if tidy != text:
        tidy = tidy.rstrip(" ?")
    return tidy or text


def time_slot_value(answer: TimeAnswer) -> Optional[str]:
    """booking_time: an ISO day ("2030-05-14") or local date-time with offset."""
    if answer.when is None:
        return None
    return answer.when.date().isoformat() if answer.date_only else answer.when.isoformat()


def time_from_slot(value: Optional[str], zone: ZoneInfo) -> Tuple[Optional[datetime], bool]:
    if not value:
        return None, False
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=zone), True
        parsed = datetime.fromisoformat(value)
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)), False
    except ValueError:
        return None, False


def describe_time(text: Optional[str], value: Optional[str], zone: ZoneInfo) -> str:
    when, date_only = time_from_slot(value, zone)
    if when is None:
        return text or ""
    when = when.astimezone(zone)
    shown = f"{when:%A} {when.day} {when:%B %Y}" + ("" if date_only else f", {when:%H:%M}")
    return f"{text} ({shown})" if text else shown


def date_order(region: str) -> str:
    return "MDY" if region in {"US", "CA", "PH"} else "DMY"


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


# ------------------------------------------------------------------- the message
def message_entities(tracker: Tracker) -> Dict[str, List[str]]:
    found: Dict[str, List[str]] = {}
    for entity in tracker.latest_message.get("entities") or []:
        values = found.setdefault(entity.get("entity"), [])
        if entity.get("value") not in values:
            values.append(entity.get("value"))
    return found


def message_text(tracker: Tracker) -> str:
    return clean_text(tracker.latest_message.get("text"))


def answers_latest_message(tracker: Tracker) -> bool:
    """True when the form runs right after the patient's message (not resuming after
    another action answered it, not being activated)."""
    events = tracker.events or []
    last_user = next((i for i in range(len(events) - 1, -1, -1) if events[i].get("event") == "user"), None)
    if last_user is None:
        return False
    return all(
        e.get("name") in FORM_MACHINERY for e in events[last_user + 1:] if e.get("event") == "action"
    )


def slot_before_message(tracker: Tracker, slot: str) -> Any:
    """The slot's value before the latest message (the form's tracker has candidates on top)."""
    events = tracker.events or []
    last_user = next((i for i in range(len(events) - 1, -1, -1) if events[i].get("event") == "user"), None)
    value = None
    for event in events[: last_user if last_user is not None else len(events)]:
        if event.get("event") == "slot" and event.get("name") == slot:
            value = event.get("value")
        elif event.get("event") in ("restart", "session_started"):
            value = None
    return value


def changed_by_message(tracker: Tracker) -> bool:
    """Whether the latest message changed a field of the request ("no, make it Friday")."""
    events = tracker.events or []
    last_user = next((i for i in range(len(events) - 1, -1, -1) if events[i].get("event") == "user"), None)
    fields = set(REQUIRED) - {CONFIRMED}
    return last_user is not None and any(
        e.get("event") == "slot" and e.get("name") in fields
        and e.get("value") != slot_before_message(tracker, e.get("name"))
        for e in events[last_user + 1:]
    )


def answers_step(requested: Optional[str], text: str) -> bool:
    """Whether the text plainly answers the question asked, whatever its intent."""
    if requested == CONTACT:
        return mentions_contact(text)
    if requested == NAME:
        return parse_name(text) is not None or name_from_cue(text) is not None
    if requested == KIND:
        return parse_kind(text, "") is not None
    if requested == CONFIRMED:
        return bool(_CONFIRM.match(text))
    if requested == TIME_TEXT and not _WH_WORD.search(text):
        settings = resources.current().settings
        now = utcnow().astimezone(ZoneInfo(settings.clinic_timezone))
        answer = parse_preferred_time(text, now, date_order(settings.clinic_phone_region))
        return answer.error != "utter_booking_time_unclear"
    return False


def should_leave_form(tracker: Tracker, requested: Optional[str]) -> bool:
    """The message is not an answer: let the rules handle it (emergency, cancel, a question).

    The classifier knows little about names, addresses and dates, so a message that
    plainly answers the question stays in the form even if it was classified as a
    question; "stop", "talk to a human" and the like leave it unless they carry the
    contact details asked for ("call me on 07911 123456").
    """
    intent = latest_intent(tracker)
    if intent == "report_emergency":
        return True
    text = message_text(tracker)
    if intent in ESCAPE_INTENTS:
        return not (requested == CONTACT and answers_step(requested, text))
    if intent in ALWAYS_QUESTIONS:
        return not answers_step(requested, text)
    if intent in QUESTION_INTENTS and is_question(text):
        return not answers_step(requested, text)
    return False


def plan_message(tracker: Tracker, guide: Guide) -> Dict[str, str]:
    """Which slots this message fills, as raw text for their validate_ methods.

    The asked-for slot takes the whole message, unless the message corrects other
    fields ("actually my email is ...", "make it Friday"): then only those change
    and the question is asked again. At the summary every field can be corrected;
    while asking for the note, only an explicit correction changes other fields.
    """
    requested = tracker.get_slot(REQUESTED_SLOT)
    if requested not in REQUIRED or not answers_latest_message(tracker):
        return {}
    text = message_text(tracker)
    if not text:
        return {}
    intent = latest_intent(tracker)
    entities = message_entities(tracker)
    at_summary = requested == CONFIRMED
    marked = bool(_CORRECTION.search(text))
    corrections_allowed = at_summary or requested != NOTE or marked
    plan: Dict[str, str] = {}
    if corrections_allowed:
        if requested != CONTACT and mentions_contact(text):
            plan[CONTACT] = text
        name = name_from_cue(text)
        if name and requested != NAME:
            plan[NAME] = name
        if requested != SPECIALIST and (at_summary or marked) and specialist_from_entities(guide, entities):
            plan[SPECIALIST] = text
        # "actually I want a second opinion" (not "next Tuesday" classified as a booking request)
        kind = parse_kind(text, "")
        if requested != KIND and kind and (intent in KIND_BY_INTENT or marked or (
                at_summary and kind != tracker.get_slot(KIND))):  # "yes, book it" confirms
            plan[KIND] = text
        if requested != TIME_TEXT and (at_summary or marked) and CONTACT not in plan and NAME not in plan:
            settings = resources.current().settings
            zone = ZoneInfo(settings.clinic_timezone)
            answer = parse_preferred_time(text, utcnow().astimezone(zone), date_order(settings.clinic_phone_region))
            if answer.error is None and answer.when is not None:
                plan[TIME_TEXT] = text
        if requested != NOTE and (at_summary or marked) and re.match(r"^(?:add\s+a\s+)?note\s*:?\s+", text, re.I):
            plan[NOTE] = re.sub(r"^(?:add\s+a\s+)?note\s*:?\s+", "", text, flags=re.I)
    if at_summary:
        if not plan:
            if intent == "affirm" or (_CONFIRM.match(text) and intent != "deny"):
                plan[CONFIRMED] = "yes"
            else:
                plan[CONFIRMED] = "no" if intent == "deny" else "unclear"
        return plan
    if requested in plan:
        return plan
    if not plan:
        plan[requested] = name_from_cue(text) or text if requested == NAME else text
    return plan


# ---------------------------------------------------------------- shared actions
async def in_thread(func: Callable[..., T], *args: Any) -> T:
    """Run blocking work (the database) off the action server's event loop."""
    return await asyncio.get_running_loop().run_in_executor(None, functools.partial(func, *args))


class FlowAction(PatientAction):
    """PatientAction for asynchronous work (database, notifications); a mixin like it:
    ``class ActionX(FlowAction, Action)``."""

    async def respond_async(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                            domain: Dict[Text, Any]) -> List[EventType]:
        raise NotImplementedError

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        start = len(dispatcher.messages)
        events = await self.respond_async(dispatcher, tracker, domain)
        if tracker.get_slot(DISCLAIMER_SLOT):
            return events
        dispatcher.utter_message(response="utter_disclaimer")
        dispatcher.messages.insert(start, dispatcher.messages.pop())
        return events + [SlotSet(DISCLAIMER_SLOT, True)]


def clear_booking() -> List[EventType]:
    return [SlotSet(slot, None) for slot in ALL_SLOTS] + [SlotSet(REQUESTED_SLOT, None)]


def channel_of(tracker: Tracker) -> str:
    return (tracker.get_latest_input_channel() or "unknown")[:40]


def utter_clinic_phone(dispatcher: CollectingDispatcher, settings: Settings) -> None:
    if settings.clinic_phone:
        dispatcher.utter_message(response="utter_clinic_phone", clinic_phone=settings.clinic_phone)


# ----------------------------------------------------------------------- actions
class ActionStartBooking(FlowAction, Action):
    """Starts a request: its type from the intent, the specialist from the conversation."""

    def name(self) -> Text:
        return "action_start_booking"

    async def respond_async(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                            domain: Dict[Text, Any]) -> List[EventType]:
        guide = resources.current().guide
        intent = latest_intent(tracker)
        kind = KIND_BY_INTENT.get(intent)
        ranking = tracker.latest_message.get("intent_ranking") or []
        top = [r for r in ranking[:2] if r.get("name") in KIND_BY_INTENT]
        if len(top) == 2 and abs(top[0].get("confidence", 0) - top[1].get("confidence", 0)) < 0.2:
            kind = None  # "can a specialist look at my results": ask which it is
        specialist = (specialist_from_entities(guide, message_entities(tracker))
                      or specialist_from_context(guide, tracker))
        if tracker.get_slot(NONCE) and tracker.get_slot(CONFIRMED) is None and tracker.get_slot(NAME):
            # The last submission could not be stored: keep what the patient gave
            # (and the nonce, so that a row that did get stored is not doubled).
            events: List[EventType] = [SlotSet(REQUESTED_SLOT, None)]
            if kind:
                events.append(SlotSet(KIND, kind))
            dispatcher.utter_message(response="utter_booking_resume",
                                     kind_label=KIND_LABELS.get(kind or tracker.get_slot(KIND), "request"))
            return events
        events = clear_booking()
        events += [SlotSet(NONCE, uuid.uuid4().hex), SlotSet(KIND, kind), SlotSet(SPECIALIST, specialist)]
        if kind:
            dispatcher.utter_message(response="utter_booking_intro", kind_label=KIND_LABELS[kind])
        else:
            dispatcher.utter_message(response="utter_booking_intro_either")
        if specialist:
            dispatcher.utter_message(response="utter_booking_specialist_noted", specialist=specialist)
        return events


class ValidateBookingForm(FormValidationAction):
    """Reads the patient's answers (and corrections) for ``booking_form``."""

    def name(self) -> Text:
        return f"validate_{FORM}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        if answers_latest_message(tracker) and should_leave_form(tracker, tracker.get_slot(REQUESTED_SLOT)):
            return []  # nothing filled: Rasa rejects the form and the rules take over
        return await super().run(dispatcher, tracker, domain)

    # ---- helpers
    @staticmethod
    def _plan(tracker: Tracker) -> Dict[str, str]:
        return plan_message(tracker, resources.current().guide)

    def _extract(self, slot: str, tracker: Tracker) -> Dict[Text, Any]:
        plan = self._plan(tracker)
        return {slot: plan[slot]} if slot in plan else {}

    @staticmethod
    def _is_correction(slot: str, tracker: Tracker) -> bool:
        return answers_latest_message(tracker) and tracker.get_slot(REQUESTED_SLOT) != slot

    def _acknowledge(self, slot: str, dispatcher: CollectingDispatcher, tracker: Tracker, field: str) -> None:
        if self._is_correction(slot, tracker) and tracker.get_slot(REQUESTED_SLOT) != CONFIRMED:
            dispatcher.utter_message(response="utter_booking_updated", field=field)

    def _refuse(self, slot: str, dispatcher: CollectingDispatcher, tracker: Tracker,
                response: str, **kwargs: Any) -> Dict[Text, Any]:
        dispatcher.utter_message(response=response, **kwargs)
        # A failed correction keeps the earlier answer; a failed answer asks again.
        keep = slot_before_message(tracker, slot) if self._is_correction(slot, tracker) else None
        return {slot: keep}

    # ---- extraction (raw text per slot; see plan_message)
    def extract_booking_kind(self, dispatcher, tracker, domain):
        return self._extract(KIND, tracker)

    def extract_booking_specialist(self, dispatcher, tracker, domain):
        return self._extract(SPECIALIST, tracker)

    def extract_booking_full_name(self, dispatcher, tracker, domain):
        return self._extract(NAME, tracker)

    def extract_booking_contact(self, dispatcher, tracker, domain):
        return self._extract(CONTACT, tracker)

    def extract_booking_time_text(self, dispatcher, tracker, domain):
        return self._extract(TIME_TEXT, tracker)

    def extract_booking_note(self, dispatcher, tracker, domain):
        return self._extract(NOTE, tracker)

    def extract_booking_confirmed(self, dispatcher, tracker, domain):
        return self._extract(CONFIRMED, tracker)

    # ---- validation
    def validate_booking_kind(self, value, dispatcher, tracker, domain):
        if value in KIND_LABELS:
            return {KIND: value}
        kind = parse_kind(clean_text(value), latest_intent(tracker))
        if kind is None:
            return self._refuse(KIND, dispatcher, tracker, "utter_booking_invalid_kind")
        if self._is_correction(KIND, tracker):
            if kind == slot_before_message(tracker, KIND):
                dispatcher.utter_message(response="utter_booking_continue", kind_label=KIND_LABELS[kind])
            else:
                self._acknowledge(KIND, dispatcher, tracker, "request type")
        return {KIND: kind}

    def validate_booking_specialist(self, value, dispatcher, tracker, domain):
        guide = resources.current().guide
        if value is None:
            return {SPECIALIST: None}
        if not answers_latest_message(tracker) and (value == NOT_SURE or value in specialist_titles(guide).values()):
            return {SPECIALIST: value}  # pre-filled by action_start_booking
        found, error = parse_specialist(guide, clean_text(value), message_entities(tracker), latest_intent(tracker))
        if error:
            return self._refuse(SPECIALIST, dispatcher, tracker, error)
        self._acknowledge(SPECIALIST, dispatcher, tracker, "specialist")
        return {SPECIALIST: found}

    def validate_booking_full_name(self, value, dispatcher, tracker, domain):
        name = parse_name(clean_text(value)) if value else None
        if name is None:
            return self._refuse(NAME, dispatcher, tracker, "utter_booking_invalid_name")
        self._acknowledge(NAME, dispatcher, tracker, "name")
        return {NAME: name}

    def validate_booking_contact(self, value, dispatcher, tracker, domain):
        if value is None:
            return {CONTACT: None}
        region = resources.current().settings.clinic_phone_region
        answer = parse_contact(clean_text(value), region)
        if answer.error:
            return self._refuse(CONTACT, dispatcher, tracker, answer.error)
        email = answer.email or slot_before_message(tracker, EMAIL)
        phone = answer.phone or slot_before_message(tracker, PHONE)
        field = "e-mail address" if answer.email and not answer.phone else \
            "phone number" if answer.phone and not answer.email else "contact details"
        self._acknowledge(CONTACT, dispatcher, tracker, field)
        return {CONTACT: contact_display(email, phone), EMAIL: email, PHONE: phone}

    def validate_booking_time_text(self, value, dispatcher, tracker, domain):
        if value is None:
            return {TIME_TEXT: None}
        settings = resources.current().settings
        zone = ZoneInfo(settings.clinic_timezone)
        answer = parse_preferred_time(clean_text(value), utcnow().astimezone(zone),
                                      date_order(settings.clinic_phone_region))
        if answer.error:
            refused = self._refuse(TIME_TEXT, dispatcher, tracker, answer.error)
            if self._is_correction(TIME_TEXT, tracker):
                refused[TIME] = slot_before_message(tracker, TIME)
            return refused
        self._acknowledge(TIME_TEXT, dispatcher, tracker, "preferred day and time")
        return {TIME_TEXT: tidy_time_text(answer.text), TIME: time_slot_value(answer)}

    def validate_booking_note(self, value, dispatcher, tracker, domain):
        if value is None:
            return {NOTE: None}
        note, error = parse_note(clean_text(value, MAX_NOTE + 1), latest_intent(tracker))
        if error:
            return self._refuse(NOTE, dispatcher, tracker, error, limit=MAX_NOTE)
        self._acknowledge(NOTE, dispatcher, tracker, "note")
        return {NOTE: note}

    def validate_booking_confirmed(self, value, dispatcher, tracker, domain):
        if value is True or value == "yes":
            return {CONFIRMED: True}
        if value == "unclear":
            dispatcher.utter_message(response="utter_booking_confirm_unclear")
        # "no": action_ask_booking_form_booking_confirmed asks what to change
        return {CONFIRMED: None}


def summary_kwargs(tracker: Tracker) -> Dict[str, str]:
    settings = resources.current().settings
    zone = ZoneInfo(settings.clinic_timezone)
    return {
        "kind_label": KIND_LABELS.get(tracker.get_slot(KIND), "request"),
        "specialist": tracker.get_slot(SPECIALIST) or NOT_SURE,
        "full_name": tracker.get_slot(NAME) or "",
        "contact": tracker.get_slot(CONTACT) or "",
        "preferred_time": describe_time(tracker.get_slot(TIME_TEXT), tracker.get_slot(TIME), zone),
        "note": tracker.get_slot(NOTE) or "(none)",
    }


class ActionAskBookingConfirmed(Action):
    """The summary to confirm, or after a "no" the question what to change."""

    def name(self) -> Text:
        return f"action_ask_{FORM}_{CONFIRMED}"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[EventType]:
        if (answers_latest_message(tracker) and latest_intent(tracker) == "deny"
                and slot_before_message(tracker, REQUESTED_SLOT) == CONFIRMED
                and not changed_by_message(tracker)):
            dispatcher.utter_message(response="utter_booking_change_what")
        else:
            dispatcher.utter_message(response="utter_booking_summary", **summary_kwargs(tracker))
        return []


class ActionSubmitBooking(FlowAction, Action):
    """Stores the confirmed request (once), notifies staff, gives the reference."""

    def name(self) -> Text:
        return "action_submit_booking"

    async def respond_async(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                            domain: Dict[Text, Any]) -> List[EventType]:
        settings = resources.current().settings
        if tracker.get_slot(CONFIRMED) is not True or not tracker.get_slot(NONCE):
            dispatcher.utter_message(response="utter_booking_cancelled")
            return clear_booking()
        zone = ZoneInfo(settings.clinic_timezone)
        when, _ = time_from_slot(tracker.get_slot(TIME), zone)
        try:
            new = NewRequest(
                kind=tracker.get_slot(KIND) or "appointment",
                conversation_id=tracker.sender_id,
                channel=channel_of(tracker),
                idempotency_key=storage.idempotency_key("booking", tracker.sender_id, tracker.get_slot(NONCE)),
                specialist=tracker.get_slot(SPECIALIST),
                full_name=tracker.get_slot(NAME),
                email=tracker.get_slot(EMAIL),
                phone=tracker.get_slot(PHONE),
                preferred_time_text=tracker.get_slot(TIME_TEXT),
                preferred_time=when,
                note=tracker.get_slot(NOTE) or None,
            )
            stored = await in_thread(storage.current().submit, new)
        except (SQLAlchemyError, StorageError, ValueError, OSError) as exc:
            logger.error("Could not store a booking request: %s", type(exc).__name__)
            dispatcher.utter_message(response="utter_booking_failed")
            utter_clinic_phone(dispatcher, settings)
            return [SlotSet(CONFIRMED, None)]
        if stored.created:
            notify.current().notify_soon(stored)
        by = " or ".join(v for v in (
            "e-mail" if stored.email else "", "phone" if stored.phone else "") if v) or "phone or e-mail"
        dispatcher.utter_message(
            response="utter_booking_submitted", kind_label=KIND_LABELS.get(stored.kind, "request"),
            reference=stored.reference, response_time=settings.staff_response_time, contact_method=by,
        )
        utter_clinic_phone(dispatcher, settings)
        return clear_booking()


class ActionCancelBooking(PatientAction, Action):
    """"Stop" / "never mind": drops the request being collected; nothing is stored."""

    def name(self) -> Text:
        return "action_cancel_booking"

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                domain: Dict[Text, Any]) -> List[EventType]:
        in_form = tracker.active_loop_name == FORM
        if in_form or tracker.get_slot(NONCE):
            dispatcher.utter_message(response="utter_booking_cancelled")
            return clear_booking() + ([ActiveLoop(None)] if in_form else [])
        dispatcher.utter_message(response="utter_nothing_to_cancel")
        return []

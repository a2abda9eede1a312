"""Which specialist a booking is for: one the guide links to what the patient named or
asked about, "Not sure", or the concern in the patient's own words."""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Tuple

from rasa_sdk import Tracker

from actions.answering import SUBJECT_ENTITIES
from actions.booking.slots import NOT_SURE
from guide.model import Guide

MAX_CONCERN = 100
_NOT_SURE = re.compile(
    r"^(?:i'?m\s+)?(?:not\s+sure|unsure|no\s+idea|don'?t\s+know|i\s+don'?t\s+know|dunno|any(?:one)?|"
    r"anybody|whoever|you\s+decide|no\s+preference|not\s+sure\s+yet|no|nope|idk)\b", re.I)


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

"""The building blocks of answers: replies that quote the guide (an item, a section's
gist, the overview's aspects, the specialists for a subject) with their buttons.

Pure functions of the guide; ``actions/answering.py`` decides which of them answers a
message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from guide.model import QUESTION_INTENTS, Concept, Guide, Item, Section

# Question intents and the guide section each one is about (one list, in guide/).
INTENT_SECTIONS = QUESTION_INTENTS
# Offered after answers about specialists (and the second opinion after treatments):
# they start the booking form (actions/booking/).
REQUEST_BUTTONS = [
    {"title": "Book an appointment", "payload": "/request_appointment"},
    {"title": "Get a second opinion", "payload": "/request_second_opinion"},
]
# Entities that name the subject of a question (a type, body part or cause), in the
# order they are looked at; newest wins. The one list for answers, the answering
# action's slots and the booking form's specialist.
SUBJECT_ENTITIES = ("lesion_type", "location", "cause")


@dataclass
class Reply:
    text: str
    buttons: List[Dict[str, str]] = field(default_factory=list)


@dataclass
class Answer:
    replies: List[Reply]
    section: Optional[str] = None
    item: Optional[str] = None  # "section:key" of the item answered, if one


@dataclass
class Context:
    """What the conversation is about so far (from slots)."""

    section: Optional[str] = None
    item: Optional[str] = None
    subject: Optional[Concept] = None


def payload(intent: str, entities: Optional[Dict[str, str]] = None) -> str:
    return f"/{intent}{json.dumps(entities, separators=(',', ':'))}" if entities else f"/{intent}"


def _source(section: Section) -> str:
    return f"the guide's section “{section.heading}”"


def quoted(section: Section) -> str:
    return f"From {_source(section)}"


def item_button(section: Section, item: Item, title: Optional[str] = None) -> Dict[str, str]:
    return {
        "title": title or item.title,
        "payload": payload("ask_followup", {section.entity: item.key}),
    }


def section_summary(guide: Guide, key: str) -> Answer:
    section = guide.section(key)
    if not section.items:
        return Answer([Reply(f"{quoted(section)}: {section.intro}")], section=key)
    summary = section.summary or f"The guide lists {len(section.items)} points."
    # The gist in the text itself (a screen reader, Telegram or a copied transcript keeps
    # it); the buttons open each point in full.
    points = "\n".join(f"• {i.title}" for i in section.items)
    text = (f"{quoted(section)}: {summary}\n{points}\n"
            f"Choose one of the {len(section.items)} points to read it in full.")
    buttons = [item_button(section, i) for i in section.items]
    return Answer([Reply(text, buttons)], section=key)


def full_section(guide: Guide, key: str) -> Answer:
    section = guide.section(key)
    return Answer([Reply(f"{quoted(section)}:\n{section.full_text()}")], section=key)


def item_answer(guide: Guide, item: Item, lead: str = "") -> Answer:
    section = guide.section(item.section)
    text = f"{lead}{item.title} ({_source(section)}): {item.text}"
    return Answer([Reply(text, _item_buttons(guide, section, item))], section=section.key, item=item.ref)


def _item_buttons(guide: Guide, section: Section, item: Item) -> List[Dict[str, str]]:
    buttons: List[Dict[str, str]] = []
    if section.key == "types":
        buttons.append({"title": "Who treats it?", "payload": payload("ask_specialist", {"lesion_type": item.key})})
        buttons.append({"title": "Treatment options", "payload": payload("ask_treatment")})
    elif section.key == "specialists":
        buttons += [dict(b) for b in REQUEST_BUTTONS]
    else:
        index = section.items.index(item)
        if index + 1 < len(section.items):
            nxt = section.items[index + 1]
            buttons.append(item_button(section, nxt, f"Next: {nxt.title}"))
        if section.key == "treatment":
            buttons.append({"title": "Recovery after treatment", "payload": payload("ask_recovery")})
            buttons.append(dict(REQUEST_BUTTONS[1]))
    buttons.append({"title": f"All of “{section.heading.rstrip('?')}”", "payload": payload(section_intent(section.key))})
    return buttons


def section_intent(key: str) -> str:
    """The intent that asks for a whole section (the first listed for it)."""
    return next(i for i, s in INTENT_SECTIONS.items() if s == key)


def overview_aspect(guide: Guide, aspect: str) -> Answer:
    overview = guide.section("overview")
    picked = guide.aspect_sentences(aspect) or [overview.intro]
    text = f"{quoted(overview)}: {' '.join(picked)}"
    replies = [Reply(text)]
    if aspect == "causes":
        types = guide.section("types")
        replies.append(
            Reply(
                f"{quoted(types)}: {types.summary} Each type forms for its own reasons; pick one:",
                [item_button(types, i) for i in types.items],
            )
        )
    elif aspect == "detection":
        keywords = guide.aspects.get("detection", ())
        for key in ("treatment", "specialists"):
            for item in guide.related_items(key, keywords):
                replies.append(Reply(f"{item.title} ({_source(guide.section(key))}): {item.text}"))
    return Answer(replies, section="overview")


def subject_label(concept: Concept, guide: Guide) -> str:
    """How to name a subject: the guide's own title for an item, else the lay phrase."""
    section = guide.section_for_entity(concept.entity)
    item = section.item(concept.value) if section else None
    return item.title if item else concept.phrases[0]


def specialist_answer(guide: Guide, concept: Concept) -> Answer:
    specialists = guide.section("specialists")
    label = subject_label(concept, guide)
    terms = list(concept.guide_terms) or [concept.value]
    found = guide.related_items("specialists", terms)
    note = " ".join(specialists.notes)
    if found:
        lines = [f"{i.title}: {i.text}" for i in found]
        text = f"{quoted(specialists)}, for {label}:\n" + "\n".join(lines)
        if note:
            text += f"\n{note}"
        buttons = [dict(b) for b in REQUEST_BUTTONS]
        return Answer([Reply(text, buttons)], section="specialists", item=found[0].ref)
    text = (
        f"{quoted(specialists)}: the guide does not name a specialist for {label}. "
        f"{note or specialists.summary}"
    )
    return Answer(
        [Reply(text, [item_button(specialists, i) for i in specialists.items])],
        section="specialists",
    )

def items_answer(guide: Guide, items: List[Item]) -> Answer:
    answer = item_answer(guide, items[0])
    for extra in items[1:3]:
        answer.replies += item_answer(guide, extra).replies
    return answer

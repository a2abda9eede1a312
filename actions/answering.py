"""Composes answers from the guide: which section or item a question is about, and
the reply (text + buttons) that quotes it.

Pure functions of (guide, intent, entities, context): no Rasa objects, so the whole
answering logic is testable with plain data. The action classes in ``actions/``
are thin wrappers that read the tracker and dispatch what these return.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

from guide.model import QUESTION_INTENTS, Concept, Guide, Item, Section
from guide.words import asks_for_whole_section
from actions.retrieval import (
    SEMANTIC_ANYWHERE, SEMANTIC_IN_SECTION, Hits, distinct_type, named_elsewhere, semantic_pick,
)

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


# "that", "it", "those": the message is about what the conversation is already on.
_REFERS_BACK = re.compile(r"\b(?:that|it|this|those|these|them|they|one|ones|kind)\b", re.I)

_ORDINALS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4,
    "4th": 4, "fifth": 5, "5th": 5, "sixth": 6, "6th": 6, "seventh": 7, "7th": 7,
    "eighth": 8, "8th": 8, "ninth": 9, "9th": 9, "last": -1,
}


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


def _quoted(section: Section) -> str:
    return f"From {_source(section)}"


def item_button(section: Section, item: Item, title: Optional[str] = None) -> Dict[str, str]:
    return {
        "title": title or item.title,
        "payload": payload("ask_followup", {section.entity: item.key}),
    }


def section_summary(guide: Guide, key: str) -> Answer:
    section = guide.section(key)
    if not section.items:
        return Answer([Reply(f"{_quoted(section)}: {section.intro}")], section=key)
    summary = section.summary or f"The guide lists {len(section.items)} points."
    # The gist in the text itself (a screen reader, Telegram or a copied transcript keeps
    # it); the buttons open each point in full.
    points = "\n".join(f"• {i.title}" for i in section.items)
    text = (f"{_quoted(section)}: {summary}\n{points}\n"
            f"Choose one of the {len(section.items)} points to read it in full.")
    buttons = [item_button(section, i) for i in section.items]
    return Answer([Reply(text, buttons)], section=key)


def full_section(guide: Guide, key: str) -> Answer:
    section = guide.section(key)
    return Answer([Reply(f"{_quoted(section)}:\n{section.full_text()}")], section=key)


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
    buttons.append({"title": f"All of “{section.heading.rstrip('?')}”", "payload": payload(_section_intent(section.key))})
    return buttons


def _section_intent(key: str) -> str:
    """The intent that asks for a whole section (the first listed for it)."""
    return next(i for i, s in INTENT_SECTIONS.items() if s == key)


def overview_aspect(guide: Guide, aspect: str) -> Answer:
    overview = guide.section("overview")
    picked = guide.aspect_sentences(aspect) or [overview.intro]
    text = f"{_quoted(overview)}: {' '.join(picked)}"
    replies = [Reply(text)]
    if aspect == "causes":
        types = guide.section("types")
        replies.append(
            Reply(
                f"{_quoted(types)}: {types.summary} Each type forms for its own reasons; pick one:",
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
        text = f"{_quoted(specialists)}, for {label}:\n" + "\n".join(lines)
        if note:
            text += f"\n{note}"
        buttons = [dict(b) for b in REQUEST_BUTTONS]
        return Answer([Reply(text, buttons)], section="specialists", item=found[0].ref)
    text = (
        f"{_quoted(specialists)}: the guide does not name a specialist for {label}. "
        f"{note or specialists.summary}"
    )
    return Answer(
        [Reply(text, [item_button(specialists, i) for i in specialists.items])],
        section="specialists",
    )


def _items_named(guide: Guide, entities: Dict[str, List[str]]) -> List[Item]:
    items = []
    for section in guide.sections.values():
        for value in entities.get(section.entity or "", []):
            item = section.item(value)
            if item:
                items.append(item)
    return items


def _ordinal(text: str) -> Optional[int]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    for word in words:
        if word in _ORDINALS:
            return _ORDINALS[word]
        if word.isdigit() and len(words) <= 4:
            return int(word)
    return None


def _concept_from(
    guide: Guide, entities: Dict[str, List[str]], order: Sequence[str] = SUBJECT_ENTITIES
) -> Optional[Concept]:
    for entity in order:
        for value in entities.get(entity, []):
            concept = guide.concept(entity, value)
            if concept:
                return concept
    return None


def answer_for(
    guide: Guide, intent: str, entities: Dict[str, List[str]], context: Context, text: str = "",
    hits: Hits = (),
) -> Answer:
    """The answer to a guide question, given this message's entities, the context and the
    semantic retriever's closest items (``hits``: (item ref, cosine score), best first)."""
    if intent == "ask_more":
        return tell_more(guide, context)
    if intent == "ask_followup" or intent not in INTENT_SECTIONS:
        # Another intent routed here (e.g. a rule added later): answer from what was named.
        return _follow_up(guide, entities, context, text, hits)
    key = INTENT_SECTIONS[intent]
    elsewhere = named_elsewhere(key, _items_named(guide, entities), hits)
    if elsewhere:
        return _items_answer(guide, elsewhere)
    if intent == "ask_causes":
        answer = overview_aspect(guide, "causes")
        # "why does calcium build up in the brain?": the type's own text gives its causes.
        concept = _concept_from(guide, entities)
        if concept:
            related = [guide.section("types").item(concept.value)] if concept.entity == "lesion_type" \
                else guide.related_items("types", concept.guide_terms)
            if related and len(related) <= 2:
                answer = _items_answer(guide, related)
                answer.replies += overview_aspect(guide, "causes").replies[:1]
        elif context.item and context.item.startswith("types:") and _REFERS_BACK.search(text):
            # "what could cause that?" after a type: the type's own text gives its causes.
            answer = item_answer(guide, guide.item(context.item))
            answer.replies += overview_aspect(guide, "causes").replies[:1]
        return answer
    if intent == "ask_detection":
        return overview_aspect(guide, "detection")
    if key == "overview":
        # "can tendons get it too?": a place or kind the lay lists lack, close to one type.
        typed = distinct_type(guide, hits, text)
        return item_answer(guide, typed) if typed else section_summary(guide, key)

    section = guide.section(key)
    named = _items_named(guide, entities)
    # Items of another section named here ("physiotherapy" asked about recovery) lend
    # their titles to the search below.
    by_words = guide.search_items(key, " ".join([text] + [i.title for i in named if i.section != key]))
    found = by_words or semantic_pick(guide, hits, key, text=text)
    own = [i for i in named if i.section == key]
    if own:
        return _items_answer(guide, own + ([found] if found and found not in own else []))
    if key == "specialists":
        # The most specific subject first: "calcium in my kidney" names a type and a place.
        subject = _concept_from(guide, entities, ("location", "cause", "lesion_type"))
        if subject:
            return specialist_answer(guide, subject)
        # "who should he see?" after a finding: the subject so far, unless the words
        # themselves name a specialist's item.
        if context.subject and not by_words and not asks_for_whole_section(text):
            return specialist_answer(guide, context.subject)
        if found:
            return item_answer(guide, found)
        if context.subject:
            return specialist_answer(guide, context.subject)
        return section_summary(guide, key)
    concept = _concept_from(guide, entities)
    if concept:
        related = guide.related_items(key, concept.guide_terms + (concept.value,))
        if concept.entity == "lesion_type" and key == "types":
            related = [section.item(concept.value)]
        if related and len(related) <= 2:
            return _items_answer(guide, related)
    if found:
        return item_answer(guide, found)
    return section_summary(guide, key)


def finding_answer(guide: Guide, entities: Dict[str, List[str]], hits: Hits = ()) -> Answer:
    """After the caution that only a doctor can say what a result means: what the guide
    says in general about the thing the patient's scan or report names, if it names one."""
    named = _items_named(guide, entities)
    items = [i for i in named if i.section == "types"] or named
    if not items:
        concept = _concept_from(guide, entities)
        if concept and concept.entity == "lesion_type":
            items = [guide.section("types").item(concept.value)]
        elif concept:
            items = guide.related_items("types", concept.guide_terms)[:2]
    if not items:
        picked = (distinct_type(guide, hits, min_score=SEMANTIC_IN_SECTION)
                  or semantic_pick(guide, hits, None, SEMANTIC_ANYWHERE))
        items = [picked] if picked else []
    if not items:
        # Nothing the guide has a part for: what calcified lesions are, in general.
        return section_summary(guide, "overview")
    answer = item_answer(guide, items[0], lead="In general, the guide says: ")
    for extra in items[1:2]:
        answer.replies += item_answer(guide, extra).replies
    return answer


def _items_answer(guide: Guide, items: List[Item]) -> Answer:
    answer = item_answer(guide, items[0])
    for extra in items[1:3]:
        answer.replies += item_answer(guide, extra).replies
    return answer


def _follow_up(guide: Guide, entities: Dict[str, List[str]], context: Context, text: str,
               hits: Hits = ()) -> Answer:
    named = _items_named(guide, entities)
    if named:
        in_context = [i for i in named if i.section == context.section]
        # A type named while talking about specialists or treatment continues that topic.
        if not in_context and context.section in ("specialists", "treatment"):
            concept = _concept_from(guide, entities)
            if concept and concept.entity == "lesion_type":
                intent = "ask_specialist" if context.section == "specialists" else "ask_treatment"
                return answer_for(guide, intent, entities, context, text, hits)
        return _items_answer(guide, in_context or named)
    concept = _concept_from(guide, entities, ("location", "cause", "lesion_type"))
    if concept:
        if context.section == "types":
            related = guide.related_items("types", concept.guide_terms)
            if related:
                return _items_answer(guide, related)
        if context.section == "treatment":
            return answer_for(guide, "ask_treatment", entities, context, text, hits)
        return specialist_answer(guide, concept)
    number = _ordinal(text)
    if number and context.section and guide.section(context.section).items:
        items = guide.section(context.section).items
        if number == -1 or 1 <= number <= len(items):
            return item_answer(guide, items[number - 1 if number > 0 else -1])
    if context.section and guide.section(context.section).items:
        found = guide.search_items(context.section, text) \
            or semantic_pick(guide, hits, context.section, text=text)
        if found:
            return item_answer(guide, found)
    anywhere = semantic_pick(guide, hits, None, SEMANTIC_ANYWHERE, text)
    if anywhere:
        return item_answer(guide, anywhere)
    return tell_more(guide, context)


def tell_more(guide: Guide, context: Context) -> Answer:
    if context.item:
        item = guide.item(context.item)
        if item:
            section = guide.section(item.section)
            index = section.items.index(item)
            if index + 1 < len(section.items):
                return item_answer(guide, section.items[index + 1], lead="Next point: ")
            answer = section_summary(guide, section.key)
            answer.replies.insert(0, Reply(f"That was the last point of “{section.heading}”."))
            return answer
    if context.section:
        section = guide.section(context.section)
        if context.section == "overview":
            return section_summary(guide, "types")
        return full_section(guide, section.key)
    return Answer(
        [Reply(
            "Which topic would you like to know more about?",
            [{"title": s.heading, "payload": payload(_section_intent(k))} for k, s in guide.sections.items()],
        )]
    )

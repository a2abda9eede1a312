"""Decides which part of the guide answers a question: the section or item it is about,
given the intent, the entities, the conversation so far and the semantic retriever's
closest items; ``actions/replies.py`` words the reply.

Pure functions of (guide, intent, entities, context): no Rasa objects, so the whole
answering logic is testable with plain data. The action classes in ``actions/``
are thin wrappers that read the tracker and dispatch what these return.
"""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Sequence

from guide.model import Concept, Guide, Item
from guide.words import ORDINALS, asks_for_whole_section, continues_previous, stems
from actions.replies import (
    INTENT_SECTIONS, SUBJECT_ENTITIES, Answer, Context, Reply, full_section, item_answer, items_answer,
    overview_aspect, payload, section_intent, section_summary, specialist_answer,
)
from actions.retrieval import (
    SEMANTIC_ANYWHERE, SEMANTIC_IN_SECTION, Hits, distinct_type, named_elsewhere, semantic_pick,
)

# "that", "it", "those": the message is about what the conversation is already on.
_REFERS_BACK = re.compile(r"\b(?:that|it|this|those|these|them|they|one|ones|kind)\b", re.I)

# "what kinds are there?", "different sorts": the types, whatever the classifier guessed.
_KINDS = re.compile(r"\b(?:kinds?|types?|sorts?|varieties|categories|different)\b", re.I)
# A word that asks for a section itself: a message with one asks that section's question,
# however elliptical ("doctor for kidneys?" after the types).
_SECTION_CUES = {
    "specialists": re.compile(r"\b(?:doctors?|specialists?|who|\w+ologists?)\b", re.I),
    "types": re.compile(r"\b(?:kinds?|types?|sorts?)\b", re.I),
    "treatment": re.compile(r"\b(?:treat\w*)\b", re.I),
    "preparation": re.compile(r"\b(?:prepar\w*|ready)\b", re.I),
    "recovery": re.compile(r"\b(?:recover\w*)\b", re.I),
}
# "what other approaches are there apart from surgery?": the rest of the section.
_EXCLUDING = re.compile(r"\b(?:apart from|other than|besides|except|instead of|alternatives? to|"
                        r"aside from|rather than)\b", re.I)
_OTHERS = re.compile(r"\b(?:other|others|else|alternatives?|options?|approaches)\b", re.I)
# "what are they linked to?" after a type: its causes, which its own text gives.
_LINKED = re.compile(r"\b(?:linked|associated|related|connected|tied)\s+(?:to|with)\b|\bcaus(?:e|es|ed)\b", re.I)
# "is it possible to get calcium in the rotator cuff tendon?": whether a type forms there.
_FORMS = re.compile(r"\b(?:get|have|got)\s+(?:calcium|calcifications?|calcium deposits?|deposits)\b"
                    r"|\b(?:form|forms|build up|builds up|develop|occur|appear|collect|calcify)\b", re.I)
# "how do I find a doctor who specialises in this?": the preparation step, not a specialist.
_FINDING = re.compile(r"\b(?:find|finding|look(?:ing)? for|search|research|choose|pick|work out)\b", re.I)
# "what are calcifications in the lungs?": asks what a type is, whatever section was guessed.
_WHAT_IS = re.compile(r"^(?:.*[.!?,]\s+)?(?:so\s+|and\s+)?(?:what|wat)(?:'s|s| is| are| r)\b", re.I)
# The topic itself, named in general ("who treats calcified lesions?"): not the subject so far.
_GENERAL_TOPIC = re.compile(r"\b(?:calcifi\w*|calcified|lesions?|calcium deposits?)\b", re.I)
# "do I have to prepare for them?" after the tests: the question's section, about the item
# so far, answered by that section's item sharing its words (LINKED_ITEM_SCORE: between the
# guide's items the strongest link is 0.47, Diagnostic Assessment -> Prepare for Diagnostic
# Tests; five pairs of the guide reach 0.3 (also physiotherapy in treatment and recovery,
# follow-up and scheduling appointments, metastatic calcifications and medications for
# calcium levels, managing and listing symptoms); the next pairs score 0.25).
_ABOUT_THAT = re.compile(r"\b(?:for|about|of|with|to|before|after|from)\s+(?:it|them|that|those|these|this)\b", re.I)
LINKED_ITEM_SCORE = 0.3
# "after the treatment what pain meds can I take?", "and after surgery, exercises too?":
# a question about the time after a treatment is one about recovery, whatever it names.
_AFTER_TREATMENT = re.compile(r"\b(?:after|following|post)[\s-]+(?:the\s+|my\s+|her\s+|his\s+|your\s+|a\s+)?"
                              r"(?:surgery|op|operation|procedure|treatment|removal)\b", re.I)
# "any tips for getting ready for the appointment?": the whole preparation section (the
# section is about preparing for the visit), not its step "Schedule Appointments".
_READY_FOR_VISIT = re.compile(r"\b(?:ready|prepare|preparing|prep)\b[^.?!]{0,25}\b(?:for|before)\s+"
                              r"(?:(?:the|my|an|a|our|his|her|this|that|first)\s+){0,2}"
                              r"(?:appointments?|appt|visit|consultation|consult)\b", re.I)
# How close to the best item overall an item of the section so far must be for an
# elliptical follow-up to stay in that section by meaning alone.
CONTINUE_MARGIN = 0.10


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
        if word in ORDINALS:
            return ORDINALS[word]
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
    named = _items_named(guide, entities)
    concept = _concept_from(guide, entities)
    kept = _continued(guide, key, entities, named, concept, context, text, hits)
    if kept:
        return kept
    if key == "preparation" and _READY_FOR_VISIT.search(text) \
            and all(i.key == "schedule_appointments" for i in named if i.section == key):
        return section_summary(guide, key)
    if key == "treatment" and _AFTER_TREATMENT.search(text):
        if _asks_section("recovery", text):  # "what does recovery look like after treatment?"
            return answer_for(guide, "ask_recovery", entities, context, text, hits)
        after = guide.search_items("recovery", text) or semantic_pick(guide, hits, "recovery", text=text)
        if after:
            return item_answer(guide, after)
    typed = _type_asked(guide, key, entities, named, concept, context, text)
    if typed:
        return item_answer(guide, typed)
    if context.item and not context.item.startswith(key + ":") and not (named or concept) \
            and _ABOUT_THAT.search(text):
        linked = guide.closest_item(key, context.item, LINKED_ITEM_SCORE)
        if linked:
            return item_answer(guide, linked)
    if key not in ("specialists", "types") and _KINDS.search(text) and not concept and not named \
            and not any(_asks_section(k, text) for k in _SECTION_CUES if k != "types"):
        return section_summary(guide, "types")  # "are there different sorts of calcium deposits?"
    elsewhere = named_elsewhere(key, named, hits)
    if elsewhere:
        return items_answer(guide, elsewhere)
    if intent == "ask_causes":
        answer = overview_aspect(guide, "causes")
        # "why does calcium build up in the brain?": the type's own text gives its causes.
        if concept:
            related = [guide.section("types").item(concept.value)] if concept.entity == "lesion_type" \
                else guide.related_items("types", concept.guide_terms)
            if related and len(related) <= 2:
                answer = items_answer(guide, related)
                answer.replies += overview_aspect(guide, "causes").replies[:1]
        elif context.item and context.item.startswith("types:") and _REFERS_BACK.search(text):
            # "what could cause that?" after a type: the type's own text gives its causes.
            answer = item_answer(guide, guide.item(context.item))
            answer.replies += overview_aspect(guide, "causes").replies[:1]
        return answer
    if intent == "ask_detection":
        return overview_aspect(guide, "detection")
    if key == "overview":
        # "what is brain calcification usually associated with?": the type named.
        concept = _concept_from(guide, entities, ("lesion_type",))
        if concept and guide.section("types").item(concept.value):
            return item_answer(guide, guide.section("types").item(concept.value))
        # "can tendons get it too?": a place or kind the lay lists lack, close to one type.
        typed = distinct_type(guide, hits, text)
        return item_answer(guide, typed) if typed else section_summary(guide, key)

    section = guide.section(key)
    # Items of another section named here ("physiotherapy" asked about recovery) lend
    # their titles to the search below.
    by_words = guide.search_items(key, " ".join([text] + [i.title for i in named if i.section != key]))
    found = by_words or semantic_pick(guide, hits, key, text=text)
    own = [i for i in named if i.section == key]
    # "will treating the infection stop more forming?" filed under types: the words name
    # an item of the section they ask about.
    cued = [i for i in named if i.section not in (key, "types")
            and _asks_section(i.section, text) and not _asks_section(key, text)]
    if cued and not own:
        return items_answer(guide, cued)
    refers_back = _REFERS_BACK.search(text) and not asks_for_whole_section(text) and not concept
    if own and _EXCLUDING.search(text) and _OTHERS.search(text):
        return section_summary(guide, key)
    if own:
        if refers_back:  # "is there medicine for that one?" after metastatic calcifications
            own = [_narrower(guide, key, i, context.subject) or i for i in own]
        return items_answer(guide, own + ([found] if found and found not in own else []))
    if key == "specialists":
        steps = [i for i in named if i.section == "preparation"]
        if steps and _FINDING.search(text):
            return items_answer(guide, steps)
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
        if context.subject and not _GENERAL_TOPIC.search(text):
            return specialist_answer(guide, context.subject)
        return section_summary(guide, key)
    if concept and not asks_for_whole_section(text):
        related = guide.items_about(key, concept)
        if concept.entity == "lesion_type" and key == "types":
            related = [section.item(concept.value)]
        if related and len(related) <= 2:
            return items_answer(guide, related)
    elif key == "treatment" and context.subject and _REFERS_BACK.search(text) and not concept:
        # "how is it treated?" after metastatic calcifications: what the guide says for
        # that subject first, then the section.
        related = guide.items_about(key, context.subject)
        if 1 <= len(related) <= 2 and not (found and found not in related):
            answer = items_answer(guide, related)
            answer.replies += section_summary(guide, key).replies
            answer.item = None
            return answer
    if refers_back:
        if key == "types" and context.item and context.item.startswith("types:"):
            # "what sort of conditions are they linked to?" after a type: that type.
            return item_answer(guide, guide.item(context.item))
        # "any medicine for that one?": the subject's own kind of the item found.
        narrower = _narrower(guide, key, found, context.subject)
        if narrower:
            return item_answer(guide, narrower)
    if found:
        return item_answer(guide, found)
    # Nothing in the section asked about, but an item of another one is named in words
    # ("will cutting risk factors do anything?" filed under recovery): that item.
    others = [i for i in named if i.section not in (key, "types")]
    if others and not asks_for_whole_section(text):
        return items_answer(guide, others)
    return section_summary(guide, key)


def _asks_section(key: str, text: str) -> bool:
    """Whether ``text`` has a word that asks for section ``key`` itself (``_SECTION_CUES``)."""
    cue = _SECTION_CUES.get(key)
    return bool(cue and cue.search(text))


def _type_asked(guide: Guide, key: str, entities: Dict[str, List[str]], named: List[Item],
                concept: Optional[Concept], context: Context, text: str) -> Optional[Item]:
    """The type a question is about when its words say so, whatever section the classifier
    guessed: "what are calcifications in the lungs?" (a type named, asked what it is), or
    "what are they usually linked to?" right after a type (its causes)."""
    if key in ("types", "overview") or _asks_section(key, text):
        return None
    kind = _concept_from(guide, entities, ("lesion_type",))
    if kind and (_WHAT_IS.search(text) or _LINKED.search(text) or _FORMS.search(text)) \
            and all(i.section == "types" for i in named):
        return guide.section("types").item(kind.value)
    if (not concept and context.item and context.item.startswith("types:")
            and _LINKED.search(text) and _REFERS_BACK.search(text)):
        return guide.item(context.item)
    return None


def _narrower(guide: Guide, key: str, found: Optional[Item], subject: Optional[Concept]) -> Optional[Item]:
    """An item of ``key`` about ``subject`` whose title shares a word with ``found``'s
    ("Medications to Manage Calcium Levels" for metastatic calcifications, found
    "Medications")."""
    if not found or not subject:
        return None
    related = guide.items_about(key, subject)
    title = set(stems(found.title))
    return next((i for i in related if i != found and title & set(stems(i.title))), None)


def _continued(guide: Guide, key: str, entities: Dict[str, List[str]], named: List[Item],
               concept: Optional[Concept], context: Context, text: str, hits: Hits) -> Optional[Answer]:
    """An elliptical follow-up ("and if they have to take it out?" after the specialists,
    "and the pills I take?" while preparing) asks the question before again about
    something else: answered in the section so far when that section has an item for
    it, whatever section the classifier guessed; None otherwise."""
    here = context.section
    if (not here or here == key or not guide.section(here).items or asks_for_whole_section(text)
            or _asks_section(key, text) or not continues_previous(text)):
        return None
    own = [i for i in named if i.section == here]
    if own:
        return items_answer(guide, own)
    if here == "specialists":
        subject = _concept_from(guide, entities, ("location", "cause", "lesion_type"))
        if subject and guide.related_items(here, subject.guide_terms or (subject.value,)):
            return specialist_answer(guide, subject)
    else:
        related = guide.items_about(here, concept) if concept else []
        if related and len(related) <= 2:
            return items_answer(guide, related)
    # Items of other sections named here lend their titles ("take it out" -> Surgeon).
    found = guide.search_items(here, " ".join([text] + [i.title for i in named]))
    if found:
        return item_answer(guide, found)
    items = [(ref, score) for ref, score in hits if ":" in ref]
    picked = semantic_pick(guide, hits, here, text=text) if items and not named else None
    if picked and dict(items)[picked.ref] >= items[0][1] - CONTINUE_MARGIN:
        return item_answer(guide, picked)
    return None


def finding_answer(guide: Guide, entities: Dict[str, List[str]], hits: Hits = ()) -> Answer:
    """After the caution that only a doctor can say what a result means: what the guide
    says in general about the thing the patient's scan or report names, if it names one."""
    named = _items_named(guide, entities)
    items = [i for i in named if i.section == "types"]
    if not items:  # "report: calcified granuloma right lung": the place's type before "radiology"
        concept = _concept_from(guide, entities)
        if concept and concept.entity == "lesion_type":
            items = [guide.section("types").item(concept.value)]
        elif concept:
            items = guide.items_about("types", concept)[:2]
    items = items or named
    # "my scan says calcified lesion": closest to a section's own words, not to an item.
    general = bool(hits) and ":" not in hits[0][0]
    if not items and not general:
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
        return items_answer(guide, in_context or named)
    concept = _concept_from(guide, entities, ("location", "cause", "lesion_type"))
    if concept:
        if _asks_section("specialists", text):  # "doctor for kidneys?"
            return specialist_answer(guide, concept)
        if context.section == "types":
            related = guide.items_about("types", concept)
            if related:
                return items_answer(guide, related)
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
            [{"title": s.heading, "payload": payload(section_intent(k))} for k, s in guide.sections.items()],
        )]
    )

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
from actions.question_cues import (
    ABOUT_THAT, AFTER_TREATMENT, CONTINUE_MARGIN, EXCLUDING, FINDING, FORMS, GENERAL_TOPIC, KINDS,
    LINKED, LINKED_ITEM_SCORE, MORE_WORDS, NAME_ASKED, OTHERS, READY_FOR_VISIT, REFERS_BACK, SECTION_CUES,
    THREAD_LEAD, WHAT_IS,
)
from actions.retrieval import (
    SEMANTIC_ANYWHERE, SEMANTIC_IN_SECTION, Hits, distinct_type, named_elsewhere, semantic_pick,
)


def items_named(guide: Guide, entities: Dict[str, List[str]]) -> List[Item]:
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


def concept_from(
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
    if intent == "ask_more" and not set(stems(text)) - MORE_WORDS:
        return tell_more(guide, context)
    if intent == "ask_more":  # "and the 'follow what they tell you' one": names what it wants more of
        return _follow_up(guide, entities, context, text, hits)
    if intent == "ask_followup" or intent not in INTENT_SECTIONS:
        # Another intent routed here (e.g. a rule added later): answer from what was named.
        return _follow_up(guide, entities, context, text, hits)
    key = INTENT_SECTIONS[intent]
    named = items_named(guide, entities)
    concept = concept_from(guide, entities)
    kept = _continued(guide, key, entities, named, concept, context, text, hits)
    if kept:
        return kept
    threaded = _meaning_on_thread(guide, key, context, text, hits)
    if threaded:
        return item_answer(guide, threaded)
    asked = _section_asked(key, text) if not (named or concept) else None
    if asked:
        return section_summary(guide, asked)
    if key == "preparation" and READY_FOR_VISIT.search(text) \
            and all(i.key == "schedule_appointments" for i in named if i.section == key):
        return section_summary(guide, key)
    if key == "treatment" and AFTER_TREATMENT.search(text):
        if _asks_section("recovery", text):  # "what does recovery look like after treatment?"
            return answer_for(guide, "ask_recovery", entities, context, text, hits)
        after = guide.search_items("recovery", text) or semantic_pick(guide, hits, "recovery", text=text)
        if after:
            return item_answer(guide, after)
    typed = _type_asked(guide, key, entities, named, concept, context, text, hits)
    if typed:
        return item_answer(guide, typed)
    if context.item and not context.item.startswith(key + ":") and not (named or concept) \
            and ABOUT_THAT.search(text):
        linked = guide.closest_item(key, context.item, LINKED_ITEM_SCORE)
        if linked:
            return item_answer(guide, linked)
    if key not in ("specialists", "types") and KINDS.search(text) and not concept and not named \
            and not any(_asks_section(k, text) for k in SECTION_CUES if k != "types"):
        return section_summary(guide, "types")  # "are there different sorts of calcium deposits?"
    # Named elsewhere, unless the thread and the classifier agree on this section ("how's
    # that different from physio?" among the recovery steps), or a type named gives the
    # causes asked for ("the organ kind, is that one caused by infections?").
    on_thread = context.section == key and REFERS_BACK.search(text)
    causes_of_type = intent == "ask_causes" and concept and concept.entity == "lesion_type"
    elsewhere = [] if on_thread or causes_of_type else named_elsewhere(key, named, hits)
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
        elif context.item and context.item.startswith("types:") and REFERS_BACK.search(text):
            # "what could cause that?" after a type: the type's own text gives its causes.
            answer = item_answer(guide, guide.item(context.item))
            answer.replies += overview_aspect(guide, "causes").replies[:1]
        return answer
    if intent == "ask_detection":
        return overview_aspect(guide, "detection")
    if key == "overview":
        # "what is brain calcification usually associated with?": the type named.
        concept = concept_from(guide, entities, ("lesion_type",))
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
    refers_back = REFERS_BACK.search(text) and not asks_for_whole_section(text) and not concept
    if own and EXCLUDING.search(text) and OTHERS.search(text):
        return section_summary(guide, key)
    if own:
        if refers_back:  # "is there medicine for that one?" after metastatic calcifications
            own = [_narrower(guide, key, i, context.subject) or i for i in own]
        return items_answer(guide, own + ([found] if found and found not in own else []))
    if key == "specialists":
        steps = [i for i in named if i.section == "preparation"]
        if steps and FINDING.search(text):
            return items_answer(guide, steps)
        # The most specific subject first: "calcium in my kidney" names a type and a place.
        subject = concept_from(guide, entities, ("location", "cause", "lesion_type"))
        if not subject and not named and OTHERS.search(text):
            return section_summary(guide, key)  # "which other doctors might be involved?"
        if subject:
            return specialist_answer(guide, subject)
        # "who should he see?" after a finding: the subject so far, unless the words
        # themselves name a specialist's item.
        if context.subject and not by_words and not asks_for_whole_section(text):
            return specialist_answer(guide, context.subject)
        if found:
            return item_answer(guide, found)
        if context.subject and not GENERAL_TOPIC.search(text):
            return specialist_answer(guide, context.subject)
        return section_summary(guide, key)
    if concept and not asks_for_whole_section(text):
        related = guide.items_about(key, concept)
        if concept.entity == "lesion_type" and key == "types":
            related = [section.item(concept.value)]
        if related and len(related) <= 2:
            return items_answer(guide, related)
    elif key == "treatment" and context.subject and REFERS_BACK.search(text) and not concept:
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
    # Nothing of this section, a kind or place named and no word of the section ("I want
    # ask about calcification in the brain of my son" filed under preparation): its type.
    if concept and key != "types" and not _asks_section(key, text) and not asks_for_whole_section(text):
        kind = guide.section("types").item(concept.value) if concept.entity == "lesion_type" else None
        related = [kind] if kind else guide.items_about("types", concept)
        if len(related) == 1:
            return item_answer(guide, related[0])
    return section_summary(guide, key)


def _section_asked(key: str, text: str) -> Optional[str]:
    """The section a question asks for as a whole, in words only of section questions:
    its intent's own ("what is recovery like after the operation?": the time after a
    treatment is recovery's frame), or the one section its words name when the classifier
    guessed another ("what does recovery usually involve?" filed under treatment)."""
    frame = AFTER_TREATMENT.sub(" ", text)  # "after the operation" is recovery's frame
    if frame != text and key != "specialists" and not _asks_section("treatment", frame):
        return "recovery" if asks_for_whole_section(frame) else None
    cued = [k for k in SECTION_CUES if k != "specialists" and _asks_section(k, text)]
    if len(cued) != 1 or cued[0] == key or _asks_section(key, text):
        return None  # the intent's own section, or no one other: the usual path decides
    return cued[0] if asks_for_whole_section(text) else None


def _asks_section(key: str, text: str) -> bool:
    """Whether ``text`` has a word that asks for section ``key`` itself (``SECTION_CUES``)."""
    cue = SECTION_CUES.get(key)
    return bool(cue and cue.search(text))


def _type_asked(guide: Guide, key: str, entities: Dict[str, List[str]], named: List[Item],
                concept: Optional[Concept], context: Context, text: str, hits: Hits = ()) -> Optional[Item]:
    """The type a question is about when its words say so, whatever section the classifier
    guessed: "what are calcifications in the lungs?" (a type named, asked what it is), or
    "what are they usually linked to?" right after a type (its causes)."""
    if key in ("types", "overview") or _asks_section(key, text):
        return None
    kind = concept_from(guide, entities, ("lesion_type",))
    if kind and (WHAT_IS.search(text) or LINKED.search(text) or FORMS.search(text) or NAME_ASKED.search(text)) \
            and all(i.section == "types" for i in named):
        return guide.section("types").item(kind.value)
    if NAME_ASKED.search(text) and not kind and key != "specialists":
        # "... it's depositing where it shouldn't, what's that called?": the type it describes.
        related = guide.items_about("types", concept) if concept else []
        return related[0] if len(related) == 1 else (
            distinct_type(guide, hits, min_score=SEMANTIC_IN_SECTION) or semantic_pick(guide, hits, "types"))
    if (not kind and concept and concept.entity == "location" and FORMS.search(text)
            and hits and hits[0][0].startswith("types:")):
        # "can other organs get calcium in them too?" (a place named, closest to a type)
        related = guide.items_about("types", concept)
        if len(related) == 1:
            return related[0]
    # "what are they linked to?" / "can it come from an infection?" right after a type: its causes.
    if ((not concept or concept.entity == "cause") and context.item and context.item.startswith("types:")
            and LINKED.search(text) and REFERS_BACK.search(text)):
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


def _meaning_on_thread(guide: Guide, key: str, context: Context, text: str, hits: Hits) -> Optional[Item]:
    """"she's on loads of tablets, do they need to know all of them?" while preparing: its
    words name a treatment, but its meaning is clearly the step of the section so far
    (closest item overall, THREAD_LEAD ahead of the classifier's section)."""
    here = context.section
    if not here or here in (key, "overview") or asks_for_whole_section(text) or _asks_section(key, text):
        return None
    items = [(ref, score) for ref, score in hits if ":" in ref]
    if not items or not items[0][0].startswith(here + ":") or items[0][1] < SEMANTIC_ANYWHERE:
        return None
    own_best = max((score for ref, score in items if ref.startswith(key + ":")), default=0.0)
    return guide.item(items[0][0]) if items[0][1] - own_best >= THREAD_LEAD else None


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
    if here != "types" and FORMS.search(text) and hits and hits[0][0].startswith("types:"):
        return None  # "can other organs get calcium in them too?": whether a type forms there
    own = [i for i in named if i.section == here]
    if own:
        return items_answer(guide, own)
    if here == "specialists":
        subject = concept_from(guide, entities, ("location", "cause", "lesion_type"))
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


def _follow_up(guide: Guide, entities: Dict[str, List[str]], context: Context, text: str,
               hits: Hits = ()) -> Answer:
    named = items_named(guide, entities)
    if named:
        in_context = [i for i in named if i.section == context.section]
        # A type named while talking about specialists or treatment continues that topic.
        if not in_context and context.section in ("specialists", "treatment"):
            concept = concept_from(guide, entities)
            if concept and concept.entity == "lesion_type":
                intent = "ask_specialist" if context.section == "specialists" else "ask_treatment"
                return answer_for(guide, intent, entities, context, text, hits)
        return items_answer(guide, in_context or named)
    cued = [k for k in SECTION_CUES if _asks_section(k, text)]
    if len(cued) == 1 and asks_for_whole_section(text):
        return section_summary(guide, cued[0])  # "types?", "and the treatments?"
    concept = concept_from(guide, entities, ("location", "cause", "lesion_type"))
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

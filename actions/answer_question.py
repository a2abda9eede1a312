"""``action_answer_question``: a thin wrapper that reads the tracker (entities, follow-up
slots), asks ``actions.answering.answer_for`` and sends what it returns."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import resources
from actions.answering import SUBJECT_ENTITIES, Context, answer_for
from actions.base import PatientAction, latest_entities, latest_hits, latest_intent, send


class ActionAnswerQuestion(PatientAction, Action):
    """Answers a question about the guide, resolving follow-ups from the slots."""

    def name(self) -> Text:
        return "action_answer_question"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        guide = resources.current().guide
        entities = latest_entities(tracker)
        # The newest subject wins: a type named now replaces an earlier location.
        mentioned = [e for e in SUBJECT_ENTITIES if e in entities]
        events: List[Dict[Text, Any]] = [
            SlotSet(e, None)
            for e in SUBJECT_ENTITIES
            if mentioned and e not in mentioned and tracker.get_slot(e) is not None
        ]
        subject_entity = mentioned[0] if mentioned else next(
            (e for e in SUBJECT_ENTITIES if tracker.get_slot(e)), None
        )
        subject = (
            guide.concept(subject_entity, entities.get(subject_entity, [None])[0]
                          or tracker.get_slot(subject_entity))
            if subject_entity
            else None
        )
        context = Context(
            section=tracker.get_slot("section"),
            item=tracker.get_slot("item"),
            subject=subject,
        )
        answer = answer_for(
            guide, latest_intent(tracker), entities, context, tracker.latest_message.get("text") or "",
            latest_hits(tracker),
        )
        send(dispatcher, answer)
        events.append(SlotSet("section", answer.section))
        events.append(SlotSet("item", answer.item))
        # A type answered (picked by button, number or words) becomes the subject of
        # the next "who treats that one?".
        answered = guide.item(answer.item) if answer.item else None
        if answered and answered.section == "types" and tracker.get_slot("lesion_type") != answered.key:
            events = [e for e in events if e.get("name") not in SUBJECT_ENTITIES]
            events += [SlotSet(e, None) for e in ("location", "cause") if tracker.get_slot(e)]
            events.append(SlotSet("lesion_type", answered.key))
        return events

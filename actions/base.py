"""Shared behaviour of the assistant's actions: the once-per-session disclaimer, and what
to do should a red-flag symptom happen when a question asks that."""

from __future__ import annotations

from typing import Any, Dict, List, Text, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import resources
from actions.answering import Answer
from clinic.responses import EMERGENCY_PLAN_RESPONSE, RED_FLAG_PLAN_KEY

DISCLAIMER_SLOT = "disclaimer_shown"


class PatientAction:
    """Mixin for an action whose first reply in a session carries the disclaimer.

    The disclaimer goes before the reply, except after emergency advice, which
    always comes first (``emergency_first``). A mixin, not an ``Action`` subclass,
    so that rasa-sdk does not register it as an action of its own; use it as
    ``class ActionX(PatientAction, Action)``.
    """

    emergency_first = False

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        raise NotImplementedError

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        start = len(dispatcher.messages)
        events = self.respond(dispatcher, tracker, domain)
        if not self.emergency_first:
            self.with_plan(dispatcher, tracker, start)
        return self.with_disclaimer(dispatcher, tracker, start, events)

    def with_plan(self, dispatcher: CollectingDispatcher, tracker: Tracker, start: int) -> None:
        """"What should I do if I ever get chest pain?": first, what to do (the emergency
        number, calmly: nothing is happening now), then the reply. The NLU's red-flag
        matcher names the flags (``RED_FLAG_PLAN_KEY`` of the parse data)."""
        loaded = resources.current()
        flags = tracker.latest_message.get(RED_FLAG_PLAN_KEY) or []
        labels = [loaded.red_flag_labels[f] for f in flags if isinstance(f, str) and f in loaded.red_flag_labels]
        if not labels:
            return
        dispatcher.utter_message(response=EMERGENCY_PLAN_RESPONSE, symptom=" or ".join(labels),
                                 emergency_number=loaded.settings.emergency_number)
        dispatcher.messages.insert(start, dispatcher.messages.pop())

    def with_disclaimer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, start: int,
        events: List[Dict[Text, Any]],
    ) -> List[Dict[Text, Any]]:
        """Adds the disclaimer to the replies sent since ``start``, once per session."""
        if tracker.get_slot(DISCLAIMER_SLOT):
            return events
        dispatcher.utter_message(response="utter_disclaimer")
        if not self.emergency_first:
            dispatcher.messages.insert(start, dispatcher.messages.pop())
        return events + [SlotSet(DISCLAIMER_SLOT, True)]


def send(dispatcher: CollectingDispatcher, answer: Answer) -> None:
    for reply in answer.replies:
        dispatcher.utter_message(text=reply.text, buttons=reply.buttons or None)


def latest_entities(tracker: Tracker) -> Dict[Text, List[Text]]:
    """This message's entity values by entity name, in the order they were found."""
    found: Dict[Text, List[Text]] = {}
    for entity in tracker.latest_message.get("entities") or []:
        values = found.setdefault(entity.get("entity"), [])
        if entity.get("value") not in values:
            values.append(entity.get("value"))
    return found


def latest_intent(tracker: Tracker) -> Text:
    return (tracker.latest_message.get("intent") or {}).get("name") or ""


def latest_hits(tracker: Tracker) -> List[Tuple[Text, float]]:
    """The semantic retriever's closest guide items for this message, best first
    (``guide_items`` of the parse data; empty for a button click or an older model)."""
    hits = []
    for hit in tracker.latest_message.get("guide_items") or []:
        if isinstance(hit, dict) and isinstance(hit.get("item"), str) \
                and isinstance(hit.get("score"), (int, float)):
            hits.append((hit["item"], float(hit["score"])))
    return hits

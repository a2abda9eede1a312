from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import resources
from actions.findings import finding_answer
from actions.base import PatientAction, latest_entities, latest_hits, latest_intent, send

# Intents answered with a fixed response from the domain.
RESPONSES = {
    "greet": "utter_greet",
    "goodbye": "utter_goodbye",
    "thank": "utter_thank",
    "affirm": "utter_affirm",
    "deny": "utter_deny",
    "bot_challenge": "utter_bot_challenge",
    "ask_capabilities": "utter_capabilities",
    "out_of_scope": "utter_out_of_scope",
    "ask_diagnosis": "utter_diagnosis",
}


class ActionReplyCanned(PatientAction, Action):
    """Replies with the domain response for small talk, out-of-scope and diagnosis requests
    (a diagnosis request that names something the guide covers also gets that part).

    Appointment and second-opinion requests go to the booking form (actions/booking/).
    """

    def name(self) -> Text:
        return "action_reply_canned"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        intent = latest_intent(tracker)
        dispatcher.utter_message(response=RESPONSES.get(intent, "utter_capabilities"))
        if intent != "ask_diagnosis":
            return []
        # A finding: the caution first, then what the guide says about what was named.
        answer = finding_answer(resources.current().guide, latest_entities(tracker), latest_hits(tracker))
        send(dispatcher, answer)
        return [SlotSet("section", answer.section), SlotSet("item", answer.item)]

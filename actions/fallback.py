from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answering import payload
from actions.base import PatientAction

# How a "did you mean ...?" button names each intent it may suggest.
INTENT_TITLES = {
    "ask_definition": "What calcified lesions are",
    "ask_causes": "Why calcified lesions form",
    "ask_detection": "How calcified lesions are found",
    "ask_types": "The types of calcified lesions",
    "ask_preparation": "Preparing for an appointment",
    "ask_treatment": "Treatment options",
    "ask_specialist": "Which specialist treats it",
    "ask_recovery": "Recovery after treatment",
    "ask_diagnosis": "What my own results mean",
    "request_appointment": "Booking an appointment",
    "request_second_opinion": "Getting a second opinion",
    "bot_challenge": "Who I am talking to",
    "ask_capabilities": "What this assistant can do",
    "request_human": "Talking to a person",
    "request_data_deletion": "Deleting my conversation",
}
MAX_SUGGESTIONS = 2


class ActionDefaultAskAffirmation(PatientAction, Action):
    """First stage of the two-stage fallback: "Did you mean ...?" with the top guesses."""

    def name(self) -> Text:
        return "action_default_ask_affirmation"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        entities = {
            e["entity"]: e["value"]
            for e in tracker.latest_message.get("entities") or []
            if e.get("entity") != "red_flag"
        }
        guesses = [
            r["name"]
            for r in tracker.latest_message.get("intent_ranking") or []
            if r.get("name") in INTENT_TITLES
        ][:MAX_SUGGESTIONS]
        buttons = [
            {"title": INTENT_TITLES[name], "payload": payload(name, entities)} for name in guesses
        ]
        # "/out_of_scope" is what tells the fallback loop to ask the patient to rephrase.
        buttons.append({"title": "Something else", "payload": "/out_of_scope"})
        text = "Sorry, I'm not sure I understood. Did you mean one of these?" if guesses else \
            "Sorry, I'm not sure I understood. Is it about something else?"
        dispatcher.utter_message(text=text, buttons=buttons)
        return []

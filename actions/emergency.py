from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import resources
from clinic.responses import EMERGENCY_RESPONSE
from actions.base import PatientAction, latest_entities


class ActionGiveEmergencyAdvice(PatientAction, Action):
    """Emergency advice for a red-flag symptom, before anything else is said."""

    emergency_first = True

    def name(self) -> Text:
        return "action_give_emergency_advice"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        loaded = resources.current()
        labels = [
            loaded.red_flag_labels[flag]
            for flag in latest_entities(tracker).get("red_flag", [])
            if flag in loaded.red_flag_labels
        ]
        symptom = " and ".join(labels) if labels else "What you describe"
        dispatcher.utter_message(
            response=EMERGENCY_RESPONSE,
            symptom=symptom[0].upper() + symptom[1:],
            emergency_number=loaded.settings.emergency_number,
        )
        return []

""""Forget me" in the conversation: the form that asks for a clear yes, and the action
that starts the deletion (when and how the data goes: storage/forgetting.py). The
action also ends the conversation (``Restarted``) so nothing lingers in memory.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, Restarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions import store
from actions.base import latest_intent
from actions.flow import channel_of
from actions.tracker_reading import answers_latest_message
from guide.model import QUESTION_INTENTS as GUIDE_QUESTIONS
from storage.engine import run_sync
from storage.forgetting import start_forgetting

logger = logging.getLogger(__name__)

FORM = "data_deletion_form"
# Not an answer to "delete everything?": an emergency (answered, then asked again), a
# person asked for, goodbye, a question about the guide or small talk (the data is kept,
# and the message gets its usual reply); data/rules/booking.yml.
QUESTION_INTENTS = set(GUIDE_QUESTIONS) | {"ask_followup", "ask_more"}
# ("what would that delete?" comes as ask_capabilities: it stays a "no".)
CANNED_INTENTS = {"ask_diagnosis", "bot_challenge", "out_of_scope", "thank", "greet"}
LEAVE_INTENTS = {"report_emergency", "request_human", "goodbye"} | QUESTION_INTENTS | CANNED_INTENTS
CONFIRMED = "deletion_confirmed"


class ValidateDataDeletionForm(FormValidationAction):
    """Only a clear "yes" deletes; an emergency is answered first, anything else keeps the data."""

    def name(self) -> Text:
        return f"validate_{FORM}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        if answers_latest_message(tracker) and latest_intent(tracker) in LEAVE_INTENTS:
            return []  # rejected: its rule answers (an emergency, then the form asks again)
        return await super().run(dispatcher, tracker, domain)

    def extract_deletion_confirmed(self, dispatcher, tracker, domain):
        if tracker.get_slot("requested_slot") != CONFIRMED or not answers_latest_message(tracker):
            return {}
        return {CONFIRMED: latest_intent(tracker) == "affirm"}


class ActionDeleteConversation(Action):
    def name(self) -> Text:
        return "action_delete_conversation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        if tracker.get_slot(CONFIRMED) is not True:
            dispatcher.utter_message(response="utter_data_kept")
            return [SlotSet(CONFIRMED, None)]
        try:
            deleted = await run_sync(start_forgetting, store.current(), tracker.sender_id,
                                     channel_of(tracker))
        except (SQLAlchemyError, OSError) as exc:
            logger.error("Could not delete a conversation's data: %s", type(exc).__name__)
            dispatcher.utter_message(response="utter_data_deletion_failed")
            return [SlotSet(CONFIRMED, None)]
        dispatcher.utter_message(response="utter_data_deleted", deleted_requests=deleted)
        return [Restarted()]

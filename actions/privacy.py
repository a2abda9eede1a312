""""Forget me": after the patient confirms, their requests and the conversation are
deleted, and the deletion is recorded (sha256 of the conversation id, counts, when).

Why the conversation's events are deleted a moment later, not inside the action:
Rasa's SQL tracker store saves a turn by counting the rows it already has for the
conversation and appending the tracker's events beyond that count. Rows deleted
while the turn is still running would therefore be written back at its end. So the
action deletes the requests at once and queues a purge (table ``event_purges``);
the action server's background loop deletes every event of the conversation up to
a few seconds after the request, in passes 1, 5 and 30 seconds later (a later
pass catches rows a concurrent turn wrote back), then records the deletion and
forgets the conversation id. The queue is in the database, so a restart finishes it.
The action also ends the conversation (``Restarted``) so nothing lingers in memory.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, Restarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions import storage
from actions.base import latest_intent
from actions.flow import channel_of, in_thread
from actions.tracker_reading import answers_latest_message
from actions.storage import RequestStore, utcnow

logger = logging.getLogger(__name__)

FORM = "data_deletion_form"
CONFIRMED = "deletion_confirmed"
# Seconds after the request at which the event purges run; the last one records it.
PURGE_PASSES = (1.0, 5.0, 30.0)
# Events up to this long after the request belong to the deleted conversation (the
# rest of the turn that confirmed it).
CUTOFF_SECONDS = 3.0


class ValidateDataDeletionForm(FormValidationAction):
    """Only a clear "yes" deletes; an emergency is answered first, anything else keeps the data."""

    def name(self) -> Text:
        return f"validate_{FORM}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        if answers_latest_message(tracker) and latest_intent(tracker) == "report_emergency":
            return []  # rejected: the emergency rule answers, then the form asks again
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
        now = utcnow()
        try:
            deleted = await in_thread(
                storage.current().forget_conversation, tracker.sender_id, channel_of(tracker), now,
                now.timestamp() + CUTOFF_SECONDS, now + timedelta(seconds=PURGE_PASSES[0]),
            )
        except (SQLAlchemyError, OSError) as exc:
            logger.error("Could not delete a conversation's data: %s", type(exc).__name__)
            dispatcher.utter_message(response="utter_data_deletion_failed")
            return [SlotSet(CONFIRMED, None)]
        dispatcher.utter_message(response="utter_data_deleted", deleted_requests=deleted)
        return [Restarted()]


def next_pass_due(purge: storage.PendingPurge) -> Optional[datetime]:
    following = purge.passes + 1
    if following >= len(PURGE_PASSES):
        return None
    return purge.created_at + timedelta(seconds=PURGE_PASSES[following])


def run_due_purges(store: RequestStore, now: Optional[datetime] = None) -> int:
    """Run every purge pass that is due; returns how many ran."""
    ran = 0
    for purge in store.due_purges(now or utcnow()):
        if store.purge_pass(purge, next_pass_due(purge)):
            ran += 1
    return ran

"""The base of the actions that talk to the database or to staff (booking, hand-off,
"forget me"): asynchronous, so that blocking work runs off the action server's loop.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.base import PatientAction
from actions.settings import Settings


class FlowAction(PatientAction):
    """PatientAction for asynchronous work (database, notifications); a mixin like it:
    ``class ActionX(FlowAction, Action)``, implementing ``respond_async``."""

    async def respond_async(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                            domain: Dict[Text, Any]) -> List[EventType]:
        raise NotImplementedError

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        start = len(dispatcher.messages)
        events = await self.respond_async(dispatcher, tracker, domain)
        return self.with_disclaimer(dispatcher, tracker, start, events)


def channel_of(tracker: Tracker) -> str:
    """The channel of the patient's latest message, as stored with a request."""
    return (tracker.get_latest_input_channel() or "unknown")[:40]


def utter_clinic_phone(dispatcher: CollectingDispatcher, settings: Settings) -> None:
    if settings.clinic_phone:
        dispatcher.utter_message(response="utter_clinic_phone", clinic_phone=settings.clinic_phone)

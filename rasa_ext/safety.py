"""Replies that do not depend on the action server.

When a custom action cannot run (the action server is down, restarting, times out or
answers an error), stock Rasa logs the failure and the patient gets an empty reply:
no apology, and no emergency advice for "I have crushing chest pain", since that
advice is a custom action too. ``SafeRemoteAction`` replaces Rasa's ``RemoteAction``
and, on such a failure, utters domain responses rendered by Rasa itself:

* for ``action_give_emergency_advice``: ``utter_emergency`` with the configured
  ``EMERGENCY_NUMBER``, so the red-flag advice still comes first;
* for any other action: ``utter_service_unavailable`` (or ``_call`` with the clinic's
  phone number when ``CLINIC_PHONE`` is set), once per turn.

A rejection (HTTP 400: the action declines to run) is not a failure and passes through.
"""

from __future__ import annotations

import logging
from typing import Any, List

from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.shared.core.events import BotUttered, Event, UserUttered
from rasa.shared.exceptions import RasaException

from clinic import settings as clinic
from clinic.responses import EMERGENCY_RESPONSE

logger = logging.getLogger(__name__)

EMERGENCY_ACTION = "action_give_emergency_advice"
APOLOGY = "utter_service_unavailable"
APOLOGY_WITH_PHONE = "utter_service_unavailable_call"


def already_apologised(tracker: Any) -> bool:
    """True if this turn (since the patient's last message) already carries the apology."""
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, BotUttered) and (event.metadata or {}).get("utter_action") in (
                APOLOGY, APOLOGY_WITH_PHONE):
            return True
    return False


async def fallback_events(action_name: str, output_channel: Any, nlg: Any, tracker: Any) -> List[Event]:
    from rasa.core.actions.action import create_bot_utterance

    if action_name == EMERGENCY_ACTION:
        name, extra = EMERGENCY_RESPONSE, {"symptom": "What you describe",
                                           "emergency_number": clinic.emergency_number()}
    elif already_apologised(tracker):
        return []
    else:
        phone = clinic.clinic_phone()
        name, extra = (APOLOGY_WITH_PHONE, {"clinic_phone": phone}) if phone else (APOLOGY, {})
        extra["emergency_number"] = clinic.emergency_number()
    draft = await nlg.generate(name, tracker, output_channel.name(), **extra)
    if not draft:
        return []
    draft["utter_action"] = name
    return [create_bot_utterance(draft)]


class SafeRemoteAction(RemoteAction):
    async def run(self, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> List[Event]:
        try:
            return await super().run(output_channel, nlg, tracker, domain)
        except ActionExecutionRejection:
            raise
        except (RasaException, OSError, TimeoutError) as exc:
            logger.error("Action %s could not run (%s); answering without the action server",
                         self.name(), type(exc).__name__)
            return await fallback_events(self.name(), output_channel, nlg, tracker)


def install() -> None:
    import rasa.core.actions.action as action_module
    import rasa.core.actions.forms as forms_module

    # Rasa looks the class up by these module-level names when it builds an action.
    action_module.RemoteAction = SafeRemoteAction
    forms_module.RemoteAction = SafeRemoteAction

"""A message that answers the active form's question is recorded as that answer.

Inside the booking form the patient types a name, an e-mail, "next Tuesday morning" or
a note. The classifier has no intent for such text, so its confidence is low and the
FallbackClassifier records ``nlu_fallback``; the form still takes the answer (its
validation action reads the text), but the conversation looked like a failure on
every booking (the console flagged them all; its top "fallback messages" were e-mails
and names). Here, after NLU and before the policies, a ``nlu_fallback`` message
becomes ``inform`` (the domain's intent for an answer to a form's question) when a form
is active and asks for a free-text slot: a ``text`` slot filled by the form's own
validation action (``custom`` mapping), and so does an ``ask_followup`` with no question
mark and no entity (a name the classifier took for "and the kidneys?"). So does a message
shaped like contact details (an e-mail address, a phone number) whatever the classifier
guessed, unless it is an emergency, "cancel" or another request. The classifier's ranking is kept below it.

Right after a hand-off request (or its reminder) the assistant invites a phone number
or e-mail for a call-back without a form: there, a message shaped like contact details
becomes ``inform`` too (data/rules/handoff.yml stores it on the request).
"""

from __future__ import annotations

import re
from typing import Any, Dict, Optional

from rasa.core.processor import MessageProcessor
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

FALLBACK_INTENT = "nlu_fallback"
FOLLOW_UP_INTENT = "ask_followup"  # a domain intent name, like the two around it
ANSWER_INTENT = "inform"
# Never turned into an answer: what the form itself treats as leaving or interrupting it.
KEEP = {"report_emergency", "cancel", "restart", "request_human", "request_data_deletion"}
CONTACT_SHAPE = re.compile(r"[^\s@]@[^\s@]|(?:\d[\s().+-]*){7,}")
# Actions after which a contact-shaped message is the call-back contact they asked for.
ASKS_FOR_CONTACT = {"action_request_handoff", "action_remind_handoff"}
_ORIGINAL = MessageProcessor.parse_message


def asks_for_free_text(domain: Domain, tracker: Optional[DialogueStateTracker]) -> bool:
    if tracker is None or not tracker.active_loop_name or ANSWER_INTENT not in domain.intents:
        return False
    requested = tracker.get_slot("requested_slot")
    slot = next((s for s in domain.slots if s.name == requested), None)
    if slot is None or slot.type_name != "text":
        return False
    return bool(slot.mappings) and all(m.get("type") == "custom" for m in slot.mappings)


def after_contact_question(tracker: Optional[DialogueStateTracker]) -> bool:
    """True when the assistant's last action (before listening) invited a call-back contact."""
    if tracker is None:
        return False
    for event in reversed(tracker.events):
        name = getattr(event, "action_name", None)
        if name is None or name == "action_listen":
            if event.type_name == "user":
                return False
            continue
        return name in ASKS_FOR_CONTACT
    return False


def as_contact_answer(parse_data: Dict[str, Any]) -> Dict[str, Any]:
    name = (parse_data.get("intent") or {}).get("name")
    if name in KEEP or not CONTACT_SHAPE.search(parse_data.get("text") or ""):
        return parse_data
    return as_form_answer(parse_data)


def as_form_answer(parse_data: Dict[str, Any]) -> Dict[str, Any]:
    name = (parse_data.get("intent") or {}).get("name")
    text = parse_data.get("text") or ""
    contact = bool(CONTACT_SHAPE.search(text))
    # "Rosalind Okafor" read as an elliptical follow-up ("and the kidneys?"): a follow-up
    # points at something (a guide entity) or asks; a bare name does neither.
    bare = name == FOLLOW_UP_INTENT and "?" not in text and not parse_data.get("entities")
    if name == ANSWER_INTENT or name in KEEP or not (name == FALLBACK_INTENT or contact or bare):
        return parse_data
    answer = {"name": ANSWER_INTENT, "confidence": 1.0}
    ranking = [r for r in parse_data.get("intent_ranking") or [] if r.get("name") != ANSWER_INTENT]
    return {**parse_data, "intent": answer, "intent_ranking": [answer] + ranking}


async def parse_message(self: MessageProcessor, message, tracker: Optional[DialogueStateTracker] = None,
                        only_output_properties: bool = True) -> Dict[str, Any]:
    parse_data = await _ORIGINAL(self, message, tracker, only_output_properties)
    if asks_for_free_text(self.domain, tracker):
        return as_form_answer(parse_data)
    if after_contact_question(tracker):
        return as_contact_answer(parse_data)
    return parse_data


def install() -> None:
    MessageProcessor.parse_message = parse_message

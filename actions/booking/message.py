"""What the patient's latest message means for the booking form: leave the form (an
emergency, "cancel", a question), or which slots it fills (the answer asked for, or
corrections of earlier answers)."""

from __future__ import annotations

import re
from typing import Dict, Optional

from rasa_sdk import Tracker
from rasa_sdk.forms import REQUESTED_SLOT

from actions import resources
from actions.base import latest_entities, latest_intent
from actions.booking.clinic_time import read_preferred_time
from actions.booking.parsing import (has_wh_word, is_confirmation, is_marked_correction, is_question,
                                     mentions_contact, name_from_cue, parse_kind, parse_name, single_line)
from actions.booking.slots import (CONFIRMED, CONTACT, KIND, KIND_BY_INTENT, NAME, NOTE, REQUIRED,
                                   SPECIALIST, TIME_TEXT)
from actions.booking.specialists import specialist_from_entities
from actions.tracker_reading import answers_latest_message
from guide.model import Guide

# Intents that always leave the form to their own rule (the form then resumes or ends).
ESCAPE_INTENTS = {"report_emergency", "cancel", "restart", "request_human", "request_data_deletion"}
FALLBACK_INTENT = "nlu_fallback"
# Intents answered by the assistant mid-form when the message is a question.
QUESTION_INTENTS = {
    "ask_definition", "ask_causes", "ask_detection", "ask_types", "ask_preparation",
    "ask_treatment", "ask_specialist", "ask_recovery", "ask_followup", "ask_diagnosis",
    "out_of_scope",
}
# Steps whose answers have a shape (a name, a contact, a kind, yes, a day): a guide
# question that does not have it is a question, with or without a question mark. Free
# text (the note, the specialist) is an answer unless it is shaped as a question.
STRUCTURED_STEPS = {NAME, CONTACT, KIND, CONFIRMED, TIME_TEXT}
MIN_QUESTION_WORDS = 4
# ... and these whatever their shape ("help", "tell me more", "are you a bot").
ALWAYS_QUESTIONS = {"ask_more", "ask_capabilities", "bot_challenge"}
# "thanks" (answered, then the question again) and "bye" (the request is dropped, and
# the patient told so), unless the words answer the question asked (a name, a contact).
SMALL_TALK = {"thank", "goodbye"}
# "note: ..." / "add a note ..." at the summary or as a correction.
_NOTE_CUE = re.compile(r"^(?:add\s+a\s+)?note\s*:?\s+", re.I)


def message_text(tracker: Tracker) -> str:
    return single_line(tracker.latest_message.get("text"))


def answers_step(requested: Optional[str], text: str) -> bool:
    """Whether the text plainly answers the question asked, whatever its intent."""
    if requested == CONTACT:
        return mentions_contact(text)
    if requested == NAME:
        return parse_name(text) is not None or name_from_cue(text) is not None
    if requested == KIND:
        return parse_kind(text, "") is not None
    if requested == CONFIRMED:
        return is_confirmation(text)
    if requested == TIME_TEXT and not has_wh_word(text):
        answer = read_preferred_time(text, resources.current().settings)
        return answer.error != "utter_booking_time_unclear"
    return False


def should_leave_form(tracker: Tracker, requested: Optional[str]) -> bool:
    """The message is not an answer: let the rules handle it (emergency, cancel, a question).

    The classifier knows little about names, addresses and dates, so a message that
    plainly answers the question stays in the form even if it was classified as a
    question; "stop", "talk to a human" and the like leave it unless they carry the
    contact details asked for ("call me on 07911 123456").
    """
    intent = latest_intent(tracker)
    if intent == "report_emergency":
        return True
    text = message_text(tracker)
    if intent in ESCAPE_INTENTS:
        return not (requested == CONTACT and answers_step(requested, text))
    if intent in ALWAYS_QUESTIONS or intent in SMALL_TALK:
        return not answers_step(requested, text)
    sentence = requested in STRUCTURED_STEPS and len(text.split()) >= MIN_QUESTION_WORDS
    if intent == FALLBACK_INTENT and sentence and "?" in text:
        # "In the meantime, is there anything I can change in my daily habits?" asked for a
        # name: a question the classifier is unsure of, answered with "did you mean ...?"
        return not answers_step(requested, text)
    if intent in QUESTION_INTENTS and (is_question(text) or sentence):
        # "she takes loads of tablets, does that matter" asked for a name: not a name
        # ("Rosalind" alone is a name too short, and is told so)
        return not answers_step(requested, text)
    return False


def plan_message(tracker: Tracker, guide: Guide) -> Dict[str, str]:
    """Which slots this message fills, as raw text for their validate_ methods.

    The asked-for slot takes the whole message, unless the message corrects other
    fields ("actually my email is ...", "make it Friday"): then only those change
    and the question is asked again. At the summary every field can be corrected;
    while asking for the note, only an explicit correction changes other fields.
    """
    requested = tracker.get_slot(REQUESTED_SLOT)
    if requested not in REQUIRED or not answers_latest_message(tracker):
        return {}
    text = message_text(tracker)
    if not text:
        return {}
    intent = latest_intent(tracker)
    entities = latest_entities(tracker)
    at_summary = requested == CONFIRMED
    marked = is_marked_correction(text)
    corrections_allowed = at_summary or requested != NOTE or marked
    plan: Dict[str, str] = {}
    if corrections_allowed:
        if requested != CONTACT and mentions_contact(text):
            plan[CONTACT] = text
        name = name_from_cue(text)
        if name and requested != NAME:
            plan[NAME] = name
        if requested != SPECIALIST and (at_summary or marked) and specialist_from_entities(guide, entities):
            plan[SPECIALIST] = text
        # "actually I want a second opinion" (not "next Tuesday" classified as a booking request)
        kind = parse_kind(text, "")
        if requested != KIND and kind and (intent in KIND_BY_INTENT or marked or (
                at_summary and kind != tracker.get_slot(KIND))):  # "yes, book it" confirms
            plan[KIND] = text
        if requested != TIME_TEXT and (at_summary or marked) and CONTACT not in plan and NAME not in plan:
            answer = read_preferred_time(text, resources.current().settings)
            if answer.error is None and answer.when is not None:
                plan[TIME_TEXT] = text
        if requested != NOTE and (at_summary or marked) and _NOTE_CUE.match(text):
            plan[NOTE] = _NOTE_CUE.sub("", text)
    if at_summary:
        if not plan:
            if intent == "affirm" or (is_confirmation(text) and intent != "deny"):
                plan[CONFIRMED] = "yes"
            else:
                plan[CONFIRMED] = "no" if intent == "deny" else "unclear"
        return plan
    if requested in plan:
        return plan
    if not plan:
        plan[requested] = name_from_cue(text) or text if requested == NAME else text
    return plan

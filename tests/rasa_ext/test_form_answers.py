"""rasa_ext.form_answers with the project's real domain and Rasa trackers."""

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActiveLoop, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_ext.form_answers import as_form_answer, asks_for_free_text
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def domain():
    return Domain.load(str(ROOT / "domain.yml"))


def tracker(domain, loop=None, requested=None):
    t = DialogueStateTracker.from_events("p", [], slots=domain.slots)
    if loop:
        t.update(ActiveLoop(loop))
    if requested:
        t.update(SlotSet("requested_slot", requested))
    return t


FALLBACK = {"text": "Rosalind Okafor", "intent": {"name": "nlu_fallback", "confidence": 0.45},
            "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.45},
                               {"name": "greet", "confidence": 0.3}]}


@pytest.mark.parametrize("slot", ["booking_full_name", "booking_contact", "booking_time_text", "booking_note"])
def test_free_text_questions_of_the_booking_form(domain, slot):
    assert asks_for_free_text(domain, tracker(domain, "booking_form", slot))


@pytest.mark.parametrize("loop, slot", [(None, None), ("booking_form", "booking_confirmed"),
                                        ("data_deletion_form", "deletion_confirmed"),
                                        ("booking_form", None), ("booking_form", "no_such_slot")])
def test_yes_no_questions_and_no_form_are_left_alone(domain, loop, slot):
    assert not asks_for_free_text(domain, tracker(domain, loop, slot))
    assert not asks_for_free_text(domain, None)


def test_a_fallback_becomes_the_answer_with_the_ranking_kept():
    data = as_form_answer(FALLBACK)
    assert data["intent"] == {"name": "inform", "confidence": 1.0}
    assert [r["name"] for r in data["intent_ranking"]] == ["inform", "nlu_fallback", "greet"]
    assert data["text"] == "Rosalind Okafor"


@pytest.mark.parametrize("intent", ["report_emergency", "cancel", "ask_recovery", "request_human"])
def test_other_intents_are_never_replaced(intent):
    data = dict(FALLBACK, intent={"name": intent, "confidence": 1.0})
    assert as_form_answer(data) is data


def test_a_bare_name_read_as_a_follow_up_is_the_answer():
    data = dict(FALLBACK, intent={"name": "ask_followup", "confidence": 0.9}, entities=[])
    assert as_form_answer(data)["intent"]["name"] == "inform"
    # a real follow-up names something or asks
    asks = dict(data, text="and the kidneys?")
    assert as_form_answer(asks) is asks
    names = dict(data, text="and the kidneys", entities=[{"entity": "location", "value": "kidney"}])
    assert as_form_answer(names) is names


@pytest.mark.parametrize("text", ["rosalind.okafor@example.org", "07911 123456", "+44 (0) 7700-900123"])
def test_contact_details_are_an_answer_whatever_the_classifier_guessed(text):
    data = {"text": text, "intent": {"name": "ask_capabilities", "confidence": 0.6}, "intent_ranking": []}
    assert as_form_answer(data)["intent"]["name"] == "inform"


def test_contact_details_never_hide_an_emergency_or_a_cancel():
    for intent in ("report_emergency", "cancel"):
        data = {"text": "call 07911 123456 he collapsed", "intent": {"name": intent, "confidence": 1.0}}
        assert as_form_answer(data)["intent"]["name"] == intent


def after(domain, action, *more):
    from rasa.shared.core.events import ActionExecuted, UserUttered

    return DialogueStateTracker.from_events("p", [ActionExecuted("action_listen"), UserUttered("a person please"),
                                                  ActionExecuted(action), ActionExecuted("action_listen"), *more],
                                            slots=domain.slots)


def test_a_contact_right_after_the_hand_off_is_the_call_back_answer(domain):
    from rasa.shared.core.events import UserUttered

    from rasa_ext.form_answers import after_contact_question, as_contact_answer

    assert after_contact_question(after(domain, "action_request_handoff"))
    assert after_contact_question(after(domain, "action_remind_handoff"))
    assert not after_contact_question(after(domain, "action_answer_question"))
    # one message later the invitation no longer applies
    assert not after_contact_question(after(domain, "action_request_handoff", UserUttered("thanks")))
    phone = {**FALLBACK, "text": "call me on 07700 900123", "intent": {"name": "greet", "confidence": 0.5}}
    assert as_contact_answer(phone)["intent"] == {"name": "inform", "confidence": 1.0}
    # a question, or an emergency naming a number, stays what it is
    assert as_contact_answer({**FALLBACK, "text": "what is a CT scan?"})["intent"]["name"] == "nlu_fallback"
    emergency = {**FALLBACK, "text": "chest pain, call 07700 900123", "intent": {"name": "report_emergency",
                                                                                 "confidence": 0.9}}
    assert as_contact_answer(emergency)["intent"]["name"] == "report_emergency"

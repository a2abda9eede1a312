"""GuideIntentRouter: personal findings become diagnosis requests; an unsure message
close to one guide item becomes a question about its section; nothing else changes."""

import pytest
from rasa.shared.nlu.training_data.message import Message

from nlu_components.routing import GuideIntentRouter, is_personal_finding

FINDINGS = [
    "my scan says metastatic calcification, does metastatic mean I have cancer??",
    "Is coronary artery calcium bad? Mine came back with a score on my heart scan.",
    "the nurse said my son has a calcified spot on his kidney on the ultrasound. what does this mean for him?",
    "my radiologist wrote 'dystrophic calcification'. what does that mean for me",
    "My brain CT shows small calcifications, am I getting dementia?",
    "dad's report mentions calcium in the liver, should we be worried?",
]
NOT_FINDINGS = [
    "do i have to fast before the blood tests",
    "what does calcification mean",
    "who reads the scans?",
    "how do I prepare for my scan",
    "my scan is on monday, can I book an appointment",
    "what is a calcified lesion",
]


@pytest.mark.parametrize("text", FINDINGS)
def test_personal_findings(text):
    assert is_personal_finding(text)


@pytest.mark.parametrize("text", NOT_FINDINGS)
def test_general_questions_are_not_findings(text):
    assert not is_personal_finding(text)


def route(text, intent, hits=()):
    return GuideIntentRouter({}).route(text, intent, list(hits))


def test_a_finding_replaces_a_guide_question_but_never_a_request():
    assert route(FINDINGS[0], "ask_types") == ("ask_diagnosis", 1.0)
    assert route(FINDINGS[0], "nlu_fallback") == ("ask_diagnosis", 1.0)
    for intent in ("request_appointment", "request_human", "request_data_deletion", "greet", "report_emergency"):
        assert route(FINDINGS[0], intent) is None


def test_an_unsure_message_close_to_an_item_asks_about_its_section():
    hits = [{"item": "recovery:pain_management", "score": 0.6}]
    assert route("painkillers from the chemist ok?", "nlu_fallback", hits) == ("ask_recovery", 0.6)
    assert route("painkillers from the chemist ok?", "nlu_fallback", [dict(hits[0], score=0.4)]) is None
    assert route("painkillers from the chemist ok?", "ask_treatment", hits) is None  # the classifier was sure


def test_process_sets_intent_and_ranking():
    message = Message.build(text=FINDINGS[1])
    message.set("intent", {"name": "ask_types", "confidence": 0.8})
    message.set("intent_ranking", [{"name": "ask_types", "confidence": 0.8}])
    GuideIntentRouter({}).process([message])
    assert message.get("intent") == {"name": "ask_diagnosis", "confidence": 1.0}
    assert [r["name"] for r in message.get("intent_ranking")] == ["ask_diagnosis", "ask_types"]


def test_a_training_example_intent_string_is_left_alone():
    message = Message.build(text=FINDINGS[1], intent="ask_types")
    GuideIntentRouter({}).process([message])
    assert message.get("intent") == "ask_types"

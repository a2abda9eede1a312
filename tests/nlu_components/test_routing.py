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
    "doctor say my mother have calcification in lung. what it mean for her?",
    "the GP told me my arteries have calcium in them, is that bad?",
    "the report on my old ankle injury says dystrophic calcification, what does that mean for me?",
]
NOT_FINDINGS = [
    "do i have to fast before the blood tests",
    "what does calcification mean",
    "who reads the scans?",
    "how do I prepare for my scan",
    "my scan is on monday, can I book an appointment",
    "what is a calcified lesion",
    "my doctor said calcifications are common, what does calcification mean in general?",
    "the doctor said i should ask about physio, what does it involve?",
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


def test_out_of_scope_naming_the_closest_guide_item_asks_about_it():
    hits = [{"item": "specialists:radiologist", "score": 0.62}, {"item": "specialists", "score": 0.5}]
    router = GuideIntentRouter({})
    text = "would that be what a radiologist does"
    assert router.route(text, "out_of_scope", hits, [], {"radiologist"}) == ("ask_specialist", 0.62)
    assert router.route(text, "out_of_scope", hits, [], set()) is None  # not named in words
    assert router.route(text, "out_of_scope", [dict(hits[0], score=0.4)], [], {"radiologist"}) is None
    assert router.route(text, "out_of_scope", hits, [], {"surgeon"}) is None  # words and meaning disagree


def test_process_passes_the_named_items():
    message = Message.build(text="would that be what a radiologist does")
    message.set("intent", {"name": "out_of_scope", "confidence": 0.7})
    message.set("entities", [{"entity": "specialist", "value": "radiologist", "start": 20, "end": 31}])
    message.set("guide_items", [{"item": "specialists:radiologist", "score": 0.62}])
    GuideIntentRouter({}).process([message])
    assert message.get("intent") == {"name": "ask_specialist", "confidence": 0.62}


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


def ranked(*names):
    return [{"name": n, "confidence": round(0.6 - 0.2 * i, 2)} for i, n in enumerate(names)]


@pytest.mark.parametrize("text", [
    "my mum has calcium in her kidneys, what type of doctor should she see?",
    "which doctor if its linked to a tumour",
    "who does the surgery to remove them",
    "what kind of specialist handles this",
])
def test_a_which_doctor_question_filed_elsewhere_goes_to_specialists(text):
    router = GuideIntentRouter({})
    ranking = ranked("ask_types", "nlu_fallback", "ask_specialist")
    assert router.route(text, "ask_types", [], ranking) == ("ask_specialist", 0.2)


def test_which_doctor_needs_specialists_among_the_next_guesses_and_never_replaces_a_request():
    router = GuideIntentRouter({})
    text = "which doctor should I show my scans to"
    assert router.route(text, "ask_preparation", [], ranked("ask_preparation", "ask_recovery", "greet")) is None
    assert router.route(text, "ask_preparation", [], ranked("ask_preparation", "greet", "out_of_scope",
                                                              "ask_specialist")) is None
    assert router.route(text, "request_appointment", [], ranked("request_appointment", "ask_specialist")) is None
    # a question that names no doctor keeps its intent
    assert router.route("how long is recovery", "ask_recovery", [], ranked("ask_recovery", "ask_specialist")) is None


def test_an_unsure_which_doctor_question_goes_to_specialists_before_the_closest_item():
    hits = [{"item": "types:visceral_organ_calcifications", "score": 0.64}]
    ranking = ranked("nlu_fallback", "ask_types", "ask_specialist")
    text = "my mum has calcium in her kidneys, what type of doctor should she see?"
    assert GuideIntentRouter({}).route(text, "nlu_fallback", hits, ranking) == ("ask_specialist", 0.2)


def test_finding_the_right_specialist_stays_a_preparation_question():
    text = "nobody referred me anywhere, how do i work out which kind of specialist to look for?"
    ranking = ranked("ask_preparation", "ask_specialist")
    assert GuideIntentRouter({}).route(text, "ask_preparation", [], ranking) is None


@pytest.mark.parametrize("text", ["and a nephrologist?", "and the scans I had done at another hospital?",
                                  "what about the kidneys?"])
def test_an_elliptical_follow_up_filed_as_a_booking_request_is_a_follow_up(text):
    assert route(text, "request_appointment") == ("ask_followup", 1.0)
    assert route(text, "request_second_opinion") == ("ask_followup", 1.0)


@pytest.mark.parametrize("text", ["and can I book an appointment too?", "and a second opinion?",
                                  "can i get an apointment", "and for my dad, can we come in next week?"])
def test_a_booking_request_stays_a_booking_request(text):
    assert route(text, "request_appointment") is None


def test_asking_to_be_seen_here_with_booking_as_a_next_guess_is_a_booking_request():
    text = "Could I see one of your doctors about the calcium in my shoulder?"
    assert GuideIntentRouter({}).route(text, "ask_types", [], ranked("ask_types", "request_appointment")) == \
        ("request_appointment", 0.4)
    # not a next guess, or too weak: the classifier's question stands
    assert GuideIntentRouter({}).route(text, "ask_types", [], ranked("ask_types", "ask_specialist")) is None
    weak = [{"name": "ask_types", "confidence": 0.8}, {"name": "request_appointment", "confidence": 0.1}]
    assert GuideIntentRouter({}).route(text, "ask_types", [], weak) is None
    # a question about appointments, not a request
    assert GuideIntentRouter({}).route("should i bring my scans to the appointment?", "ask_preparation", [],
                                       ranked("ask_preparation", "request_appointment")) is None


def test_a_place_in_the_list_is_a_follow_up_whatever_the_classifier_filed():
    assert route("the first one, what does it do?", "nlu_fallback") == ("ask_followup", 1.0)
    assert route("the second one - when would i see them?", "ask_specialist") == ("ask_followup", 1.0)
    assert route("the second one", "ask_followup") is None
    for intent in ("request_appointment", "request_human", "report_emergency", "goodbye"):
        assert route("the second one", intent) is None


@pytest.mark.parametrize("text, intent", [
    ("Good morning. I am 79 and my heart specialist says my arteries have calcium in them. I would very much "
     "like a second opinion from your clinic, if that is possible.", "request_second_opinion"),
    ("can i get a secnd opinon on my scan", "request_second_opinion"),
    ("how do i book the procedure at your place", "request_appointment"),
    ("could I make an appointment with you for my shoulder?", "request_appointment"),
])
def test_a_request_in_so_many_words_is_a_request(text, intent):
    assert route(text, "ask_types") == (intent, 1.0)
    assert route(text, "nlu_fallback") == (intent, 1.0)


@pytest.mark.parametrize("text", [
    "what should I bring to my appointment with you?",
    "which papers do I need for the second opinion?",
    "how do I prepare for my appointment here?",
    "how do I schedule appointments with specialists?",
])
def test_getting_ready_for_a_visit_stays_a_question(text):
    assert route(text, "ask_preparation") is None


def test_an_elliptical_message_the_classifier_is_unsure_of_is_a_follow_up():
    assert route("what about if it's cancer?", "nlu_fallback") == ("ask_followup", 1.0)
    assert route("what about if it's cancer?", "ask_specialist") is None  # the classifier was sure

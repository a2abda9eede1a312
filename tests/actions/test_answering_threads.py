"""Follow-ups resolved from the conversation so far, and section questions asked in other
words (actions/answering.py): each through the answering action with a real tracker.
The wordings are this file's own, not the evaluation sets'."""

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answer_question import ActionAnswerQuestion
from tests.actions.conftest import entity, make_tracker


def run(tracker):
    dispatcher = CollectingDispatcher()
    events = ActionAnswerQuestion().run(dispatcher, tracker, {})
    return dispatcher.messages, events


def heading(guide, key):
    return f"“{guide.section(key).heading}”"


def test_what_happens_after_the_operation_is_the_recovery_section(guide):
    for intent in ("ask_treatment", "ask_recovery"):
        messages, events = run(make_tracker("so what happens after the operation?", intent))
        assert heading(guide, "recovery") in messages[0]["text"]
        assert SlotSet("item", None) in events


def test_the_words_name_another_section_than_the_classifier(guide):
    messages, _ = run(make_tracker("what does recovery normally involve", "ask_treatment"))
    assert heading(guide, "recovery") in messages[0]["text"]
    # A specialists question naming treatment stays with the specialists
    messages, _ = run(make_tracker(
        "who treats that one?", "ask_specialist",
        slots={"lesion_type": "brain_calcifications", "section": "types", "item": "types:brain_calcifications"}))
    assert heading(guide, "recovery") not in messages[0]["text"]
    assert heading(guide, "treatment") not in messages[0]["text"]


def test_a_kind_of_something_else_is_not_the_types(guide):
    hits = [{"item": "treatment:diagnostic_assessment", "score": 0.6}, {"item": "treatment", "score": 0.4}]
    messages, _ = run(make_tracker("what sort of checks come next?", "ask_treatment", guide_items=hits))
    assert guide.item("treatment:diagnostic_assessment").text in messages[0]["text"]
    messages, _ = run(make_tracker("what sorts of calcium deposits exist?", "ask_treatment"))
    assert heading(guide, "types") in messages[0]["text"]


def test_a_meaning_on_the_thread_beats_a_word_of_another_section(guide):
    hits = [{"item": "preparation:review_your_medications", "score": 0.7},
            {"item": "treatment:medications", "score": 0.52}]
    slots = {"section": "preparation", "item": "preparation:prepare_relevant_documents"}
    messages, _ = run(make_tracker("he takes heaps of pills, must the doctor hear about each?", "ask_treatment",
                                   [entity("treatment", "medications")], slots=slots, guide_items=hits))
    assert guide.item("preparation:review_your_medications").text in messages[0]["text"]
    # With no clear lead the classifier's section answers
    close = [{"item": "preparation:review_your_medications", "score": 0.6},
             {"item": "treatment:medications", "score": 0.55}]
    messages, _ = run(make_tracker("he takes heaps of pills, must the doctor hear about each?", "ask_treatment",
                                   [entity("treatment", "medications")], slots=slots, guide_items=close))
    assert guide.item("treatment:medications").text in messages[0]["text"]


def test_that_on_the_recovery_thread_stays_in_recovery(guide):
    hits = [{"item": "treatment:physical_therapy_and_rehabilitation", "score": 0.8},
            {"item": "recovery:physical_therapy", "score": 0.72}]
    slots = {"section": "recovery", "item": "recovery:rehabilitation_exercises"}
    messages, _ = run(make_tracker("is that not the same as physio?", "ask_recovery",
                                   [entity("treatment", "physical_therapy_and_rehabilitation")],
                                   slots=slots, guide_items=hits))
    assert guide.item("recovery:physical_therapy").text in messages[0]["text"]


def test_whether_a_place_gets_it_too_is_a_type_even_on_the_specialists_thread(guide):
    hits = [{"item": "types:visceral_organ_calcifications", "score": 0.8},
            {"item": "specialists:nephrologist", "score": 0.6}]
    slots = {"section": "specialists", "item": "specialists:nephrologist", "location": "kidney"}
    messages, _ = run(make_tracker("could the liver get calcium deposits too?", "ask_treatment",
                                   [entity("location", "liver")], slots=slots, guide_items=hits))
    assert guide.item("types:visceral_organ_calcifications").text in messages[0]["text"]


def test_what_is_that_called_names_the_type_of_the_cause_described(guide):
    messages, _ = run(make_tracker(
        "her calcium and phosphate levels are off and it settles in odd places, what is that called?",
        "ask_treatment", [entity("cause", "mineral_imbalance")]))
    assert guide.item("types:metastatic_calcifications").text in messages[0]["text"]


def test_can_it_come_from_a_cause_after_a_type_gives_that_type(guide):
    slots = {"section": "types", "item": "types:brain_calcifications", "lesion_type": "brain_calcifications"}
    messages, _ = run(make_tracker("could it come from an infection?", "ask_treatment",
                                   [entity("cause", "infection")], slots=slots))
    assert guide.item("types:brain_calcifications").text in messages[0]["text"]


def test_which_other_doctors_lists_the_specialists(guide):
    slots = {"section": "specialists", "item": "specialists:nephrologist", "location": "kidney"}
    messages, _ = run(make_tracker("and what other doctors could be part of it?", "ask_specialist", slots=slots))
    assert heading(guide, "specialists") in messages[0]["text"]
    assert [b["title"] for b in messages[0]["buttons"]][:2] == [i.title for i in guide.section("specialists").items][:2]


def test_more_about_something_named_is_not_the_next_point(guide):
    hits = [{"item": "recovery:wound_care", "score": 0.7}, {"item": "recovery", "score": 0.4}]
    slots = {"section": "recovery", "item": "recovery:rest_and_recovery"}
    messages, _ = run(make_tracker("more on the stitches bit", "ask_more", slots=slots, guide_items=hits))
    assert guide.item("recovery:wound_care").text in messages[0]["text"]
    messages, _ = run(make_tracker("tell me more please", "ask_more", slots=slots, guide_items=hits))
    assert messages[0]["text"].startswith("Next point: ")


def test_a_kind_named_with_nothing_of_the_section_asked_is_that_type(guide):
    messages, _ = run(make_tracker("i wish to know about the calcium in brain of my daughter", "ask_preparation",
                                   [entity("lesion_type", "brain_calcifications")]))
    assert guide.item("types:brain_calcifications").text in messages[0]["text"]
    # with a word of the section it stays there
    messages, _ = run(make_tracker("how do we prepare for her brain calcification appointment?",
                                   "ask_preparation", [entity("lesion_type", "brain_calcifications")]))
    assert guide.item("types:brain_calcifications").text not in messages[0]["text"]


def test_a_bare_section_word_as_a_follow_up_is_that_section(guide):
    for text, key in (("types?", "types"), ("and the treatments?", "treatment"), ("recovery??", "recovery")):
        messages, _ = run(make_tracker(text, "ask_followup", slots={"section": "overview"}))
        assert heading(guide, key) in messages[0]["text"], text

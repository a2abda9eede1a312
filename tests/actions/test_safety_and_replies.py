import subprocess
import sys

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import resources
from actions.canned import ActionReplyCanned
from actions.emergency import ActionGiveEmergencyAdvice
from actions.fallback import ActionDefaultAskAffirmation
from actions.settings import Settings
from tests.actions.conftest import entity, make_tracker
from tests.conftest import ROOT


def run(action, tracker):
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, tracker, {})
    return dispatcher.messages, events


def test_emergency_advice_names_the_symptom_and_the_number():
    resources.load(Settings.from_env({"EMERGENCY_NUMBER": "112"}))
    tracker = make_tracker(
        "sudden chest pain and I can't breathe", "report_emergency",
        [entity("red_flag", "chest_pain"), entity("red_flag", "breathing")],
    )
    messages, events = run(ActionGiveEmergencyAdvice(), tracker)
    assert messages == [{
        "text": None, "buttons": [], "elements": [], "custom": {}, "template": "utter_emergency",
        "response": "utter_emergency", "image": None, "attachment": None,
        "symptom": "Chest pain and trouble breathing", "emergency_number": "112",
    }]
    assert events == []


def test_emergency_comes_before_the_disclaimer_in_a_new_session():
    tracker = make_tracker("I fainted", "report_emergency", [entity("red_flag", "fainting")],
                           slots={"disclaimer_shown": False})
    messages, events = run(ActionGiveEmergencyAdvice(), tracker)
    assert [m["response"] for m in messages] == ["utter_emergency", "utter_disclaimer"]
    assert messages[0]["emergency_number"] == "your local emergency number"
    assert events == [SlotSet("disclaimer_shown", True)]


def test_emergency_without_a_matched_phrase_still_advises():
    messages, _ = run(ActionGiveEmergencyAdvice(), make_tracker("help me now", "report_emergency"))
    assert messages[0]["symptom"] == "What you describe"


def test_a_what_to_do_question_about_a_red_flag_gets_the_plan_before_the_answer():
    from actions.answer_question import ActionAnswerQuestion

    resources.load(Settings.from_env({"EMERGENCY_NUMBER": "112"}))
    tracker = make_tracker("what should I do if I ever get chest pain or trouble breathing?", "ask_recovery",
                           slots={"disclaimer_shown": False})
    tracker.latest_message["red_flag_plan"] = ["chest_pain", "breathing", "no_such_flag"]
    messages, events = run(ActionAnswerQuestion(), tracker)
    assert [m["response"] for m in messages[:2]] == ["utter_disclaimer", "utter_emergency_plan"]
    assert messages[1]["symptom"] == "chest pain or trouble breathing"
    assert messages[1]["emergency_number"] == "112"
    assert messages[2]["text"]  # then the guide's answer
    assert SlotSet("disclaimer_shown", True) in events


def test_no_plan_without_flags_the_matcher_named():
    from actions.answer_question import ActionAnswerQuestion

    tracker = make_tracker("how long is recovery?", "ask_recovery")
    tracker.latest_message["red_flag_plan"] = ["no_such_flag"]
    messages, _ = run(ActionAnswerQuestion(), tracker)
    assert all(m["response"] != "utter_emergency_plan" for m in messages)


def test_canned_replies_use_the_domain_response():
    for intent, response in [("greet", "utter_greet"),
                             ("out_of_scope", "utter_out_of_scope"), ("bot_challenge", "utter_bot_challenge")]:
        messages, events = run(ActionReplyCanned(), make_tracker("x", intent))
        assert [m["response"] for m in messages] == [response]
        assert events == []


def test_a_finding_gets_the_caution_then_the_guide_on_what_it_names():
    guide = resources.current().guide
    item = guide.item("types:metastatic_calcifications")
    tracker = make_tracker("my scan says metastatic calcification, is it cancer?", "ask_diagnosis",
                           [entity("lesion_type", "metastatic_calcifications")])
    messages, events = run(ActionReplyCanned(), tracker)
    assert messages[0]["response"] == "utter_diagnosis"
    assert item.text in messages[1]["text"]
    assert events == [SlotSet("section", "types"), SlotSet("item", "types:metastatic_calcifications")]


def test_a_finding_named_only_in_meaning_uses_the_retriever():
    guide = resources.current().guide
    tracker = make_tracker("my report says calcium in a tendon, what does that mean for me", "ask_diagnosis",
                           guide_items=[{"item": "types:soft_tissue_calcifications", "score": 0.61},
                                        {"item": "types", "score": 0.40}])
    messages, events = run(ActionReplyCanned(), tracker)
    assert messages[0]["response"] == "utter_diagnosis"
    assert guide.item("types:soft_tissue_calcifications").text in messages[1]["text"]
    assert events[-1] == SlotSet("item", "types:soft_tissue_calcifications")


def test_a_finding_that_names_nothing_gets_what_calcified_lesions_are():
    guide = resources.current().guide
    tracker = make_tracker("what does my result mean", "ask_diagnosis", guide_items=[{"item": "x:y", "score": 0.1}])
    messages, events = run(ActionReplyCanned(), tracker)
    assert messages[0]["response"] == "utter_diagnosis"
    assert guide.section("overview").heading in messages[1]["text"]
    assert events == [SlotSet("section", "overview"), SlotSet("item", None)]


def test_a_finding_closest_to_the_guides_general_words_gets_what_calcified_lesions_are():
    guide = resources.current().guide
    tracker = make_tracker("my scan says calcified lesion, what does that mean for me?", "ask_diagnosis",
                           [entity("cause", "imaging")],
                           guide_items=[{"item": "types", "score": 0.78}, {"item": "overview", "score": 0.77},
                                        {"item": "treatment:diagnostic_assessment", "score": 0.75}])
    messages, events = run(ActionReplyCanned(), tracker)
    assert guide.section("overview").heading in messages[1]["text"]
    assert events[-2:] == [SlotSet("section", "overview"), SlotSet("item", None)]


def test_a_finding_naming_a_place_and_a_specialist_word_gets_the_places_type():
    guide = resources.current().guide
    tracker = make_tracker("radiology report: calcified granuloma right lung. what does that mean for me??",
                           "ask_diagnosis", [entity("specialist", "radiologist"), entity("location", "lungs")])
    messages, events = run(ActionReplyCanned(), tracker)
    assert guide.item("types:visceral_organ_calcifications").text in messages[1]["text"]


def test_did_you_mean_offers_the_top_guesses_and_something_else():
    tracker = make_tracker(
        "surgry recovry?", "nlu_fallback", [entity("treatment", "surgical_removal")],
        ranking=[{"name": "nlu_fallback", "confidence": 0.45}, {"name": "ask_recovery", "confidence": 0.4},
                 {"name": "out_of_scope", "confidence": 0.2}, {"name": "ask_treatment", "confidence": 0.3}],
    )
    messages, events = run(ActionDefaultAskAffirmation(), tracker)
    assert messages[0]["buttons"] == [
        {"title": "Recovery after treatment", "payload": '/ask_recovery{"treatment":"surgical_removal"}'},
        {"title": "Treatment options", "payload": '/ask_treatment{"treatment":"surgical_removal"}'},
        {"title": "Something else", "payload": "/out_of_scope"},
    ]
    assert events == []


def test_action_server_refuses_to_start_without_the_guide(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "actions.server"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "GUIDE_FILE": str(tmp_path / "missing.txt")},
    )
    assert result.returncode == 2
    assert f"knowledge file not found: {tmp_path / 'missing.txt'}" in result.stderr


def test_action_server_refuses_a_malformed_guide(tmp_path):
    broken = tmp_path / "guide.txt"
    broken.write_text("Just one line of text and no headings\n")
    result = subprocess.run(
        [sys.executable, "-m", "actions.server"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "GUIDE_FILE": str(broken)},
    )
    assert result.returncode == 2
    assert "text before the first known heading" in result.stderr

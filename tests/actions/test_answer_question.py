import shutil

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import resources
from actions.answer_question import ActionAnswerQuestion
from actions.settings import Settings
from tests.actions.conftest import entity, make_tracker
from tests.conftest import GUIDE, LAY_TERMS, RED_FLAGS

DOMAIN = {}


def run(tracker):
    dispatcher = CollectingDispatcher()
    events = ActionAnswerQuestion().run(dispatcher, tracker, DOMAIN)
    return dispatcher.messages, events


def test_name_matches_the_domain():
    assert ActionAnswerQuestion().name() == "action_answer_question"


def test_item_question_quotes_the_item_and_names_the_section(guide):
    messages, events = run(
        make_tracker("will I need surgery?", "ask_treatment", [entity("treatment", "surgical_removal")])
    )
    surgery = guide.item("treatment:surgical_removal")
    assert surgery.text in messages[0]["text"]
    assert "“Procedure of Calcified Lesions”" in messages[0]["text"]
    assert events == [SlotSet("section", "treatment"), SlotSet("item", "treatment:surgical_removal")]


def test_section_question_gives_summary_and_every_item_as_a_button(guide):
    messages, events = run(make_tracker("how do I prepare?", "ask_preparation"))
    [message] = messages
    assert "“Preparing for Calcified Lesions?”" in message["text"]
    assert [b["title"] for b in message["buttons"]] == [i.title for i in guide.section("preparation").items]
    assert message["buttons"][5]["payload"] == '/ask_followup{"prep_step":"prepare_relevant_documents"}'
    assert events == [SlotSet("section", "preparation"), SlotSet("item", None)]


def test_who_treats_that_one_uses_the_type_slot(guide):
    tracker = make_tracker(
        "who treats that one?", "ask_specialist",
        slots={"lesion_type": "visceral_organ_calcifications", "section": "types",
               "item": "types:visceral_organ_calcifications"},
    )
    messages, events = run(tracker)
    assert guide.item("specialists:nephrologist").text in messages[0]["text"]
    assert events == [SlotSet("section", "specialists"), SlotSet("item", "specialists:nephrologist")]


def test_a_new_subject_replaces_the_old_one():
    tracker = make_tracker(
        "and for my kidneys?", "ask_followup", [entity("location", "kidney")],
        slots={"location": "kidney", "lesion_type": "brain_calcifications", "section": "specialists"},
    )
    messages, events = run(tracker)
    assert "Nephrologist" in messages[0]["text"]
    assert events == [
        SlotSet("lesion_type", None),
        SlotSet("section", "specialists"),
        SlotSet("item", "specialists:nephrologist"),
    ]


def test_brain_type_has_no_named_specialist_and_says_so(guide):
    messages, _ = run(make_tracker(
        "who treats brain calcifications", "ask_specialist", [entity("lesion_type", "brain_calcifications")],
        slots={"lesion_type": "brain_calcifications"},
    ))
    text = messages[0]["text"]
    assert "does not name a specialist for Brain Calcifications" in text
    assert guide.section("specialists").notes[0] in text


def test_follow_up_type_in_the_types_section(guide):
    messages, events = run(make_tracker(
        "what about the brain kind?", "ask_followup", [entity("lesion_type", "brain_calcifications")],
        slots={"lesion_type": "brain_calcifications", "section": "types"},
    ))
    assert guide.item("types:brain_calcifications").text in messages[0]["text"]
    assert events[-1] == SlotSet("item", "types:brain_calcifications")


def test_tell_me_more_after_an_item_gives_the_next_item(guide):
    messages, events = run(make_tracker(
        "tell me more", "ask_more", slots={"section": "recovery", "item": "recovery:wound_care"},
    ))
    assert guide.item("recovery:physical_therapy").text in messages[0]["text"]
    assert events == [SlotSet("section", "recovery"), SlotSet("item", "recovery:physical_therapy")]


def test_tell_me_more_after_a_summary_gives_the_whole_section(guide):
    messages, _ = run(make_tracker("tell me more", "ask_more", slots={"section": "treatment"}))
    for item in guide.section("treatment").items:
        assert item.text in messages[0]["text"]


def test_ordinal_picks_from_the_last_list(guide):
    messages, _ = run(make_tracker("the second one", "ask_followup", slots={"section": "types"}))
    assert guide.section("types").items[1].text in messages[0]["text"]


def test_first_answer_of_a_session_starts_with_the_disclaimer():
    tracker = make_tracker("what are calcified lesions", "ask_definition", slots={"disclaimer_shown": False})
    messages, events = run(tracker)
    assert messages[0]["response"] == "utter_disclaimer"
    assert "Calcified lesions, or calcifications" in messages[1]["text"]
    assert events == [SlotSet("section", "overview"), SlotSet("item", None), SlotSet("disclaimer_shown", True)]


def test_editing_the_guide_changes_the_answer_without_retraining(tmp_path):
    edited = tmp_path / "guide.txt"
    text = GUIDE.read_text()
    old = "Surgery may be needed if the calcifications cause discomfort or impair organ function"
    assert old in text
    edited.write_text(text.replace(old, "Our surgeons remove calcifications only after a team review"))
    resources.load(Settings(edited, LAY_TERMS, RED_FLAGS, "112", 5055))
    messages, _ = run(make_tracker("surgery?", "ask_treatment", [entity("treatment", "surgical_removal")]))
    assert "Our surgeons remove calcifications only after a team review" in messages[0]["text"]
    assert old not in messages[0]["text"]


def test_a_place_asked_about_types_finds_the_type(guide):
    messages, events = run(make_tracker("calcium spots in my brain, what is that", "ask_types",
                                        [entity("location", "brain")], slots={"location": "brain"}))
    assert guide.item("types:brain_calcifications").text in messages[0]["text"]


def test_treatment_for_a_type_quotes_the_items_that_mention_it(guide):
    messages, _ = run(make_tracker("how is metastatic calcification treated", "ask_treatment",
                                   [entity("lesion_type", "metastatic_calcifications")],
                                   slots={"lesion_type": "metastatic_calcifications"}))
    assert guide.item("treatment:medications_to_manage_calcium_levels").text in messages[0]["text"]


def test_words_of_the_guide_find_an_item_without_a_lay_phrase(guide):
    messages, _ = run(make_tracker("what documents should i bring", "ask_preparation"))
    assert guide.item("preparation:prepare_relevant_documents").text in messages[0]["text"]


def test_why_for_a_place_quotes_that_type(guide):
    messages, events = run(make_tracker("why does calcium build up in the brain", "ask_causes",
                                        [entity("location", "brain")], slots={"location": "brain"}))
    assert guide.item("types:brain_calcifications").text in messages[0]["text"]
    assert "can arise for different reasons" in messages[1]["text"]
    assert SlotSet("lesion_type", "brain_calcifications") in events


# ---- the semantic retriever's items (guide_items), when intent and phrases do not decide
def test_the_retriever_picks_the_item_the_words_do_not_name(guide):
    hits = [{"item": "recovery:pain_management", "score": 0.52}, {"item": "recovery", "score": 0.31}]
    messages, events = run(make_tracker("painkillers from the pharmacy ok?", "ask_recovery", guide_items=hits))
    assert guide.item("recovery:pain_management").text in messages[0]["text"]
    assert events == [SlotSet("section", "recovery"), SlotSet("item", "recovery:pain_management")]


def test_a_weak_hit_or_one_of_another_section_leaves_the_section_summary(guide):
    weak = [{"item": "recovery:pain_management", "score": 0.2}]
    other = [{"item": "treatment:surgical_removal", "score": 0.7}]
    for hits in (weak, other):
        messages, events = run(make_tracker("anything on getting better?", "ask_recovery", guide_items=hits))
        assert events == [SlotSet("section", "recovery"), SlotSet("item", None)]
        assert len(messages[0]["buttons"]) == len(guide.section("recovery").items)


def test_a_question_about_the_whole_section_is_not_narrowed_to_its_closest_item(guide):
    hits = [{"item": "types:brain_calcifications", "score": 0.6}, {"item": "types", "score": 0.5}]
    messages, events = run(make_tracker("what kinds are there?", "ask_types", guide_items=hits))
    assert events == [SlotSet("section", "types"), SlotSet("item", None)]
    # and when the section's own heading is closer than the item, the same
    hits = [{"item": "types", "score": 0.66}, {"item": "types:brain_calcifications", "score": 0.5}]
    messages, events = run(make_tracker("tell me about the various groups of these lesions",
                                        "ask_types", guide_items=hits))
    assert events[-1] == SlotSet("item", None)


def test_a_follow_up_with_no_words_of_the_guide_uses_a_strong_hit_anywhere(guide):
    hits = [{"item": "preparation:prepare_relevant_documents", "score": 0.58}]
    messages, events = run(make_tracker("which papers do I need for that?", "ask_followup",
                                        slots={"section": "specialists"}, guide_items=hits))
    assert guide.item("preparation:prepare_relevant_documents").text in messages[0]["text"]
    assert events[-1] == SlotSet("item", "preparation:prepare_relevant_documents")


def test_malformed_guide_items_are_ignored(guide):
    hits = [{"item": 3, "score": "high"}, "types:brain_calcifications", {"score": 0.9}]
    messages, events = run(make_tracker("what kinds are there?", "ask_types", guide_items=hits))
    assert events == [SlotSet("section", "types"), SlotSet("item", None)]


def test_a_section_answer_carries_its_points_in_the_text_not_only_in_buttons(guide):
    messages, _ = run(make_tracker("how does recovery go?", "ask_recovery"))
    lines = messages[0]["text"].splitlines()
    assert [line for line in lines if line.startswith("• ")] == [
        f"• {i.title}" for i in guide.section("recovery").items]


def test_what_causes_that_after_a_type_answers_from_that_type(guide):
    brain = guide.item("types:brain_calcifications")
    messages, events = run(make_tracker("what could cause that?", "ask_causes",
                                        slots={"section": "types", "item": brain.ref}))
    assert brain.text in messages[0]["text"]
    # a general causes question in the same conversation stays general
    messages, events = run(make_tracker("why do calcifications form in general?", "ask_causes",
                                        slots={"section": "types", "item": brain.ref}))
    assert brain.text not in messages[0]["text"]


def test_a_place_the_lay_lists_lack_asked_as_a_definition_finds_its_type(guide):
    hits = [{"item": "types:soft_tissue_calcifications", "score": 0.62}]
    messages, events = run(make_tracker("can tendons get it too?", "ask_definition", guide_items=hits))
    assert guide.item("types:soft_tissue_calcifications").text in messages[0]["text"]
    messages, events = run(make_tracker("what is a calcified lesion?", "ask_definition", guide_items=hits))
    assert events[-1] == SlotSet("item", None)  # a definition question stays the overview


def test_a_general_question_near_every_type_gets_what_calcified_lesions_are(guide):
    # "what is a calcification?" lands near all the types (brain first), none well ahead.
    hits = [{"item": "types:brain_calcifications", "score": 0.65}, {"item": "overview", "score": 0.58},
            {"item": "types:visceral_organ_calcifications", "score": 0.56}]
    messages, events = run(make_tracker("wat is a calcifcation", "ask_definition", guide_items=hits))
    assert guide.section("overview").heading in messages[0]["text"]
    assert guide.item("types:brain_calcifications").text not in messages[0]["text"]
    assert events == [SlotSet("section", "overview"), SlotSet("item", None)]


def test_a_definition_question_closer_to_the_overview_than_to_a_type_stays_general(guide):
    hits = [{"item": "overview", "score": 0.79}, {"item": "types:brain_calcifications", "score": 0.77},
            {"item": "types:soft_tissue_calcifications", "score": 0.50}]
    messages, events = run(make_tracker("what does calcification actually mean", "ask_definition",
                                        guide_items=hits))
    assert events[-1] == SlotSet("item", None)


def test_a_place_close_to_one_type_only_gets_that_type(guide):
    hits = [{"item": "types:soft_tissue_calcifications", "score": 0.72},
            {"item": "specialists:orthopedic_specialist", "score": 0.41},
            {"item": "types:atherosclerotic_calcifications", "score": 0.37}]
    messages, events = run(make_tracker("can tendons get it too?", "ask_definition", guide_items=hits))
    assert guide.item("types:soft_tissue_calcifications").text in messages[0]["text"]
    assert SlotSet("item", "types:soft_tissue_calcifications") in events


def test_an_item_of_another_section_named_and_closest_in_meaning_wins_over_the_intent(guide):
    # "how do I keep the wound clean?" after an operation, classified as a treatment question
    hits = [{"item": "recovery:wound_care", "score": 0.65}, {"item": "treatment:surgical_removal", "score": 0.5}]
    messages, events = run(make_tracker(
        "had it removed last week, how do i keep the wound clean?", "ask_treatment",
        [entity("recovery_step", "wound_care"), entity("cause", "removal")], guide_items=hits))
    assert guide.item("recovery:wound_care").text in messages[0]["text"]
    assert SlotSet("item", "recovery:wound_care") in events
    # named but not closest in meaning: the intent's section decides as before
    hits = [{"item": "treatment:surgical_removal", "score": 0.6}, {"item": "recovery:wound_care", "score": 0.5}]
    messages, events = run(make_tracker(
        "will the surgery leave a wound?", "ask_treatment",
        [entity("recovery_step", "wound_care")], guide_items=hits))
    assert SlotSet("item", "recovery:wound_care") not in events


def test_who_should_he_see_after_a_finding_names_the_specialist_for_that_subject(guide):
    slots = {"section": "types", "item": "types:atherosclerotic_calcifications",
             "lesion_type": "atherosclerotic_calcifications"}
    messages, _ = run(make_tracker("who should he see", "ask_specialist", slots=slots,
                                   guide_items=[{"item": "specialists:radiologist", "score": 0.4}]))
    assert guide.item("specialists:cardiologist").text in " ".join(m["text"] for m in messages)
    # a specialist named in words decides over the subject so far
    messages, events = run(make_tracker("who reads the scans?", "ask_specialist",
                                        [entity("specialist", "radiologist")], slots=slots))
    assert SlotSet("item", "specialists:radiologist") in events


def test_an_item_named_elsewhere_that_only_ties_with_the_intents_section_leaves_the_intent(guide):
    hits = [{"item": "treatment:medications", "score": 0.61},
            {"item": "preparation:review_your_medications", "score": 0.60}]
    messages, events = run(make_tracker(
        "what about the pills i already take, should i mention them", "ask_preparation",
        [entity("treatment", "medications")], guide_items=hits))
    assert SlotSet("section", "preparation") in events
    assert SlotSet("item", "treatment:medications") not in events


def test_who_would_operate_after_a_finding_is_the_surgeon_not_the_subjects_specialist(guide):
    slots = {"section": "types", "item": "types:soft_tissue_calcifications",
             "lesion_type": "soft_tissue_calcifications"}
    messages, events = run(make_tracker(
        "who would operate on it", "ask_specialist", [entity("treatment", "surgical_removal")],
        slots=slots, guide_items=[{"item": "treatment:surgical_removal", "score": 0.59},
                                  {"item": "specialists:surgeon", "score": 0.31}]))
    assert SlotSet("item", "specialists:surgeon") in events


# ---- elliptical follow-ups keep the section so far (actions/answering.py, _continued)
def test_and_if_they_have_to_take_it_out_after_the_specialists_names_the_surgeon(guide):
    slots = {"section": "specialists", "item": "specialists:radiologist"}
    messages, events = run(make_tracker(
        "and if they have to take it out?", "ask_treatment", [entity("treatment", "surgical_removal")],
        slots=slots, guide_items=[{"item": "treatment:surgical_removal", "score": 0.56}]))
    assert guide.item("specialists:surgeon").text in messages[0]["text"]
    assert events == [SlotSet("section", "specialists"), SlotSet("item", "specialists:surgeon")]
    # a cause named elliptically: the specialist for it
    messages, events = run(make_tracker(
        "what about if it's tied to rheumatoid arthritis?", "ask_treatment", [entity("cause", "inflammation")],
        slots=slots))
    assert "Rheumatologist" in messages[0]["text"]
    assert SlotSet("section", "specialists") in events


def test_and_the_pills_i_take_while_preparing_is_the_preparation_step(guide):
    messages, events = run(make_tracker(
        "and the pills I take?", "ask_treatment", [entity("treatment", "medications")],
        slots={"section": "preparation", "item": "preparation:gather_medical_information"},
        guide_items=[{"item": "treatment:medications", "score": 0.58},
                     {"item": "preparation:review_your_medications", "score": 0.5}]))
    assert events == [SlotSet("section", "preparation"), SlotSet("item", "preparation:review_your_medications")]


def test_a_question_of_its_own_or_about_a_whole_section_leaves_the_section_so_far(guide):
    slots = {"section": "specialists", "item": "specialists:radiologist"}
    for text in ("and how do they take it out?", "and what about treatment?"):
        _, events = run(make_tracker(text, "ask_treatment", [entity("treatment", "surgical_removal")]
                                     if "take" in text else [], slots=slots))
        assert SlotSet("section", "treatment") in events, text


def test_an_ellipsis_the_section_so_far_has_nothing_for_goes_by_the_intent(guide):
    _, events = run(make_tracker(
        "and meds?", "ask_treatment", [entity("treatment", "medications")],
        slots={"section": "types", "item": "types:brain_calcifications"}))
    assert events == [SlotSet("section", "treatment"), SlotSet("item", "treatment:medications")]


def test_what_are_they_linked_to_after_a_type_is_that_type(guide):
    _, events = run(make_tracker(
        "what sort of conditions are they linked to?", "ask_types",
        slots={"section": "types", "item": "types:brain_calcifications"},
        guide_items=[{"item": "treatment:treatment_of_underlying_conditions", "score": 0.51}]))
    assert SlotSet("item", "types:brain_calcifications") in events


def test_medicine_for_that_one_after_metastatic_is_the_calcium_level_medicines(guide):
    slots = {"section": "types", "item": "types:metastatic_calcifications",
             "lesion_type": "metastatic_calcifications"}
    _, events = run(make_tracker(
        "is there medicine for that one?", "ask_treatment", [entity("treatment", "medications")], slots=slots,
        guide_items=[{"item": "treatment:medications", "score": 0.6}]))
    assert SlotSet("item", "treatment:medications_to_manage_calcium_levels") in events
    # a treatment that is not a kind of the subject's own stays what was asked
    _, events = run(make_tracker(
        "can they cut that one out?", "ask_treatment", [entity("treatment", "surgical_removal")], slots=slots))
    assert SlotSet("item", "treatment:surgical_removal") in events


def test_who_treats_calcified_lesions_in_general_is_not_the_subject_so_far(guide):
    slots = {"section": "types", "item": "types:soft_tissue_calcifications", "location": "soft_tissue"}
    messages, events = run(make_tracker("who treats calcified lesions?", "ask_specialist", slots=slots))
    assert events[-1] == SlotSet("item", None)
    assert len(messages[0]["buttons"]) == len(guide.section("specialists").items)
    _, events = run(make_tracker("who treats it?", "ask_specialist", slots=slots))
    assert SlotSet("item", "specialists:orthopedic_specialist") in events


def test_other_approaches_apart_from_surgery_lists_the_section(guide):
    messages, events = run(make_tracker(
        "and what other approaches are there apart from surgery?", "ask_treatment",
        [entity("treatment", "surgical_removal")], slots={"section": "treatment", "item": "treatment:surgical_removal"},
        guide_items=[{"item": "treatment:surgical_removal", "score": 0.67}]))
    assert events == [SlotSet("section", "treatment"), SlotSet("item", None)]
    assert len(messages[0]["buttons"]) == len(guide.section("treatment").items)


def test_a_story_ending_in_a_section_question_gets_the_section_not_the_items_its_words_touch(guide):
    messages, events = run(make_tracker(
        "My GP sent me for a CT for something else and they spotted some calcifications. "
        "What should I be doing to get ready?", "ask_preparation", [entity("cause", "imaging")],
        guide_items=[{"item": "preparation", "score": 0.68}, {"item": "preparation:prepare_relevant_documents",
                                                               "score": 0.6}]))
    assert events[-2:] == [SlotSet("section", "preparation"), SlotSet("item", None)]
    assert len(messages[0]["buttons"]) == len(guide.section("preparation").items)


def test_how_is_it_treated_after_a_type_gives_its_own_treatment_then_the_section(guide):
    slots = {"section": "types", "item": "types:metastatic_calcifications",
             "lesion_type": "metastatic_calcifications"}
    messages, events = run(make_tracker("how is it treated?", "ask_treatment", slots=slots))
    assert guide.item("treatment:medications_to_manage_calcium_levels").text in messages[0]["text"]
    assert len(messages[-1]["buttons"]) == len(guide.section("treatment").items)
    assert events[-2:] == [SlotSet("section", "treatment"), SlotSet("item", None)]
    # with no subject so far: the section
    messages, events = run(make_tracker("how is it treated?", "ask_treatment"))
    assert events == [SlotSet("section", "treatment"), SlotSet("item", None)]


def test_what_kinds_are_there_asked_as_a_definition_gets_the_types(guide):
    messages, events = run(make_tracker("what kinds of calcified lesions are there?", "ask_definition"))
    assert events == [SlotSet("section", "types"), SlotSet("item", None)]


def test_what_are_calcifications_in_the_lungs_is_the_type_whatever_section_was_guessed(guide):
    _, events = run(make_tracker(
        "I can breathe fine, it's nothing urgent. What are calcifications in the lungs?", "ask_treatment",
        [entity("lesion_type", "visceral_organ_calcifications"), entity("location", "lungs")]))
    assert SlotSet("item", "types:visceral_organ_calcifications") in events
    # a question with its own section's words stays in that section
    _, events = run(make_tracker(
        "what are the treatments for calcifications in the lungs?", "ask_treatment",
        [entity("lesion_type", "visceral_organ_calcifications"), entity("location", "lungs")]))
    assert SlotSet("section", "treatment") in events


def test_different_sorts_asked_under_another_section_gets_the_types(guide):
    _, events = run(make_tracker("Are there different sorts of calcium deposits or is it all one thing?",
                                 "ask_treatment"))
    assert events == [SlotSet("section", "types"), SlotSet("item", None)]
    # different treatments are the treatment section's own question
    _, events = run(make_tracker("what different treatments are there?", "ask_treatment"))
    assert events == [SlotSet("section", "treatment"), SlotSet("item", None)]


def test_whether_a_type_forms_somewhere_is_that_type_whatever_section_was_guessed(guide):
    _, events = run(make_tracker(
        "is it possible to get calcium in the rotator cuff tendon? my shoulder's been stiff for months",
        "ask_treatment", [entity("lesion_type", "soft_tissue_calcifications"), entity("location", "soft_tissue")]))
    assert SlotSet("item", "types:soft_tissue_calcifications") in events
    _, events = run(make_tracker(  # a treatment named: the treatment question stands
        "can physio help with calcium in the rotator cuff tendon?", "ask_treatment",
        [entity("lesion_type", "soft_tissue_calcifications"),
         entity("treatment", "physical_therapy_and_rehabilitation")]))
    assert SlotSet("item", "treatment:physical_therapy_and_rehabilitation") in events


# ---- one message in its context -> the item answered (actions/answering.py)
TYPES_KIDNEY = {"section": "types", "item": "types:visceral_organ_calcifications"}
BRAIN_SO_FAR = {"section": "types", "item": "types:brain_calcifications", "lesion_type": "brain_calcifications"}
ITEM_IN_CONTEXT = [
    # why, text, intent, entities, slots, guide_items, the item answered
    ("a bare place while on the types is its type, not its specialist",
     "tendons?", "ask_followup", [("location", "soft_tissue")], TYPES_KIDNEY, None,
     "types:soft_tissue_calcifications"),
    ("'doctor' in a follow-up names the specialist",
     "doctor for kidneys?", "ask_followup", [("location", "kidney")], TYPES_KIDNEY, None,
     "specialists:nephrologist"),
    ("an ellipsis with a word of its own section asks that section",
     "doctor for kidneys?", "ask_specialist", [("location", "kidney")], TYPES_KIDNEY, None,
     "specialists:nephrologist"),
    ("'what are they linked to?' after a finding about a type is that type",
     "what are they usually linked to?", "ask_treatment", [], BRAIN_SO_FAR, None,
     "types:brain_calcifications"),
    ("a type named and asked what it is linked to is the type",
     "calcium deposits in the brain, what are they usually linked to?", "ask_treatment",
     [("lesion_type", "brain_calcifications"), ("location", "brain")], {}, None, "types:brain_calcifications"),
    ("a definition question naming a type gets that type",
     "years ago I had a mini stroke. What is brain calcification usually associated with?", "ask_definition",
     [("lesion_type", "brain_calcifications")], {}, None, "types:brain_calcifications"),
    ("words of another section naming its item answer with it",
     "if the calcium came from an infection, will treating the infection stop more forming?", "ask_types",
     [("treatment", "treatment_of_underlying_conditions"), ("cause", "infection")], {}, None,
     "treatment:treatment_of_underlying_conditions"),
    ("an item named elsewhere answers when the intent's section has nothing for it",
     "will looking after my heart health and cutting risk factors do anything for calcium deposits?",
     "ask_recovery", [("treatment", "lifestyle_changes")], {},
     [{"item": "types:atherosclerotic_calcifications", "score": 0.66}], "treatment:lifestyle_changes"),
    ("'just watch it instead of treating it' is the item, not the rest of the section",
     "could they just watch it instead of treating it?", "ask_treatment",
     [("treatment", "observation_and_monitoring")], {"section": "treatment"}, None,
     "treatment:observation_and_monitoring"),
    ("finding a specialist without a referral is the preparation step",
     "how do i find a doctor who specialises in this if i dont have a referral", "ask_specialist",
     [("prep_step", "research_healthcare_providers"), ("prep_step", "schedule_appointments")], {}, None,
     "preparation:research_healthcare_providers"),
]


@pytest.mark.parametrize("why, text, intent, entities, slots, hits, item", ITEM_IN_CONTEXT,
                         ids=[case[0] for case in ITEM_IN_CONTEXT])
def test_the_item_answered_in_context(guide, why, text, intent, entities, slots, hits, item):
    _, events = run(make_tracker(text, intent, [entity(n, v) for n, v in entities], slots=dict(slots),
                                 guide_items=hits))
    assert SlotSet("item", item) in events


def test_preparing_for_them_after_the_tests_reads_the_linked_preparation_step(guide):
    tracker = make_tracker("do I have to prepare for them?", "ask_preparation",
                           slots={"section": "treatment", "item": "treatment:diagnostic_assessment"})
    messages, events = run(tracker)
    assert guide.item("preparation:prepare_for_diagnostic_tests").text in messages[0]["text"]
    # with nothing linked enough (a type), the question keeps its own answer: the section
    messages, _ = run(make_tracker("do I have to prepare for it?", "ask_preparation",
                                   slots={"section": "types", "item": "types:brain_calcifications"}))
    assert "“Preparing for Calcified Lesions?”" in messages[0]["text"]
    assert guide.item("preparation:prepare_for_diagnostic_tests").text not in messages[0]["text"]


@pytest.mark.parametrize("text, entities, item", [
    ("after treatment what pain meds can i take", [entity("treatment", "medications")], "recovery:pain_management"),
    ("and after surgery do they give you exercises too?", [entity("treatment", "surgical_removal")],
     "recovery:rehabilitation_exercises"),
])
def test_a_question_about_the_time_after_treatment_is_answered_from_recovery(guide, text, entities, item):
    messages, _ = run(make_tracker(text, "ask_treatment", entities))
    assert guide.item(item).text in messages[0]["text"]


@pytest.mark.parametrize("text", ["any tips for getting ready for the appointment?",
                                  "How should I get myself ready for my first appointment?"])
def test_getting_ready_for_the_visit_is_the_whole_preparation_section(guide, text):
    messages, _ = run(make_tracker(text, "ask_preparation", [entity("prep_step", "schedule_appointments")]))
    assert [b["title"] for b in messages[0]["buttons"]] == [i.title for i in guide.section("preparation").items]


def test_recovery_after_treatment_asked_as_treatment_is_the_recovery_section(guide):
    messages, _ = run(make_tracker("while I wait, what does recovery usually look like after treatment?",
                                   "ask_treatment"))
    assert [b["title"] for b in messages[0]["buttons"]] == [i.title for i in guide.section("recovery").items]

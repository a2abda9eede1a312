import pytest

from nlu_components.phrase_matching import PhraseIndex, edit_distance


@pytest.fixture(scope="module")
def index(nlp, guide):
    return PhraseIndex(nlp, guide.entity_phrases(), nested_labels=("location", "cause"),
                       containers=("lesion_type",))


def found(index, text):
    return [(m.label, m.value, m.text) for m in index.find(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("should i bring my scans?", ("prep_step", "prepare_relevant_documents", "bring my scans")),
        ("what about my vitamins", ("prep_step", "review_your_medications", "my vitamins")),
        ("will i need surgery", ("treatment", "surgical_removal", "surgery")),
        ("can they just keep an eye on it", ("treatment", "observation_and_monitoring", "keep an eye on it")),
        ("is there a tablet for it", ("treatment", "medications", "tablet")),
        ("what is hardening of the arteries", ("lesion_type", "atherosclerotic_calcifications", "hardening of the arteries")),
        ("calcium spots in the brain", ("lesion_type", "brain_calcifications", "calcium spots in the brain")),
        ("when can i go back to the gym", ("recovery_step", "gradual_return_to_normal_activities", "go back to the gym")),
        ("what does a nefrologist do", ("specialist", "nephrologist", "nefrologist")),
        ("my kindey", ("location", "kidney", "kindey")),
        ("Surgical Removal", ("treatment", "surgical_removal", "Surgical Removal")),
    ],
)
def test_lay_words_titles_and_typos_map_to_canonical_values(index, text, expected):
    assert expected in found(index, text)


def test_a_place_inside_a_type_phrase_is_kept(index):
    assert found(index, "who treats calcium in my kidneys") == [
        ("lesion_type", "visceral_organ_calcifications", "calcium in my kidneys"),
        ("location", "kidney", "kidneys"),
    ]


def test_no_place_inside_a_specialist_phrase(index):
    assert found(index, "do i need a kidney doctor") == [("specialist", "nephrologist", "kidney doctor")]


def test_one_phrase_two_sections(index):
    labels = {label for label, _, text in found(index, "physical therapy") if text == "physical therapy"}
    assert labels == {"treatment", "recovery_step"}


@pytest.mark.parametrize(
    "text",
    ["how fast will i recover", "should i call them", "I heard about it", "are you a live agent"],
)
def test_ordinary_words_are_not_entities(index, text):
    assert found(index, text) == []


def test_edit_distance_counts_a_swap_as_one():
    assert edit_distance("kindey", "kidney") == 1
    assert edit_distance("should", "shoulder") == 2

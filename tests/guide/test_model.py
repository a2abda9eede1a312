"""Look-ups on the parsed guide (guide/model.py): related items and the item search."""

import pytest


def test_specialists_are_found_by_the_words_of_their_text(guide):
    titles = lambda terms: [i.title for i in guide.related_items("specialists", terms)]
    assert titles(["kidney"]) == ["Nephrologist"]
    assert titles(["atherosclerosis"]) == ["Cardiologist"]
    assert titles(["autoimmune"]) == ["Rheumatologist"]
    assert titles(["brain"]) == []


@pytest.mark.parametrize(
    "section, text, title",
    [
        ("preparation", "what documents should i bring", "Prepare Relevant Documents"),
        ("preparation", "shud i write my questions down before i go", "Write Down Questions"),
        ("recovery", "how is pain managed during recovery", "Pain Management"),
        ("treatment", "can medicine regulate calcium and phosphate", "Medications to Manage Calcium Levels"),
    ],
)
def test_search_finds_the_item_by_its_own_words(guide, section, text, title):
    assert guide.search_items(section, text).title == title


@pytest.mark.parametrize(
    "section, text",
    [
        ("preparation", "how do i prepare for my appointment"),  # the whole section
        ("recovery", "how long is recovery"),  # a heading word only
        ("treatment", "what's the weather like"),
    ],
)
def test_search_gives_nothing_without_a_clear_winner(guide, section, text):
    assert guide.search_items(section, text) is None


def test_items_about_a_concept_read_its_guide_terms_and_its_own_value(guide):
    soft = guide.concept("location", "soft_tissue")
    assert "soft_tissue" not in " ".join(soft.guide_terms)  # found by its value, read as words
    assert [i.key for i in guide.items_about("types", soft)] == ["soft_tissue_calcifications"]
    metastatic = guide.concept("lesion_type", "metastatic_calcifications")
    assert [i.key for i in guide.items_about("treatment", metastatic)] == ["medications_to_manage_calcium_levels"]


def test_the_closest_item_of_another_section_shares_its_words(guide):
    assert guide.closest_item("preparation", "treatment:diagnostic_assessment", 0.3).key == "prepare_for_diagnostic_tests"
    assert guide.closest_item("treatment", "types:metastatic_calcifications", 0.3).key == \
        "medications_to_manage_calcium_levels"
    assert guide.closest_item("preparation", "types:brain_calcifications", 0.3) is None
    assert guide.closest_item("preparation", "nothing:here", 0.0) is None

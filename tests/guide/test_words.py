import pytest

from guide.words import asks_for_whole_section, continues_previous, mentions, names_position


def test_mentions_accepts_plurals_and_whole_words_only():
    assert mentions("calcifications in the kidneys", "kidney")
    assert not mentions("kidneystone", "kidney")


@pytest.mark.parametrize("text", [
    "and if they have to take it out?", "what about if it's tied to rheumatoid arthritis?", "and the pills I take?",
    "can tendons get calcium too?", "tendons?", "and meds?", "n my past surgerys?", "or the brain?",
    "what about surgery?", "and for my kidneys?",
])
def test_elliptical_follow_ups(text):
    assert continues_previous(text)


@pytest.mark.parametrize("text", [
    "and how long does recovery take?", "and who treats it?", "what should i bring?", "how do they treat it",
    "thanks", "who treats calcified lesions?", "so what now", "is that serious?", "andrew here", "",
    "and " + "very " * 40 + "long?",
])
def test_questions_of_their_own(text):
    assert not continues_previous(text)


def test_mentions_reads_an_entity_value_as_words():
    assert mentions("Soft Tissue Calcifications: tendons, ligaments", "soft_tissue")


@pytest.mark.parametrize("text, whole", [
    ("My husband is 88 and forgetful. We have an appointment next week. How can we get ready?", True),
    ("My GP sent me for a CT and they found some. What should I be doing to get ready?", True),
    ("We have an appointment next week. What documents should we bring?", False),
    ("My mum had an operation on Monday. How do I look after her wound?", False),
    ("how do I prepare for my MRI", False),
    ("what are the types", True),
])
def test_a_section_question_after_a_story_asks_for_the_whole_section(text, whole):
    assert asks_for_whole_section(text) is whole


def test_a_section_word_typed_a_letter_off_still_asks_for_the_section():
    assert asks_for_whole_section("wat do i do after treatmnt")
    assert asks_for_whole_section("how is recovry")
    assert not asks_for_whole_section("how do i clean the wound")


def test_a_contracted_question_word_asks_its_own_question():
    assert not continues_previous("and who'd operate if needed?")
    assert not continues_previous("and what's the recovery like?")


@pytest.mark.parametrize("text, named", [
    ("the first one, what does it do?", True),
    ("the second one - when would i see them?", True),
    ("and the last option?", True),
    ("number 3 please", True),
    ("is this the first time calcium shows up?", False),
    ("first of all, what are they?", False),
    ("I had one scan last year", False),
    ("no. 4 please", True),
    ("I had no 3D scan, only an x-ray", False),
    ("no 2 doctors say the same", False),
    ("3rd", True),
    ("the second?", True),
    ("ok the last", True),
    ("last", True),
    ("the last time it hurt", False),
    ("second opinion", False),
])
def test_a_place_in_the_list_just_shown(text, named):
    assert names_position(text) is named

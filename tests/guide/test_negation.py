"""When a symptom phrase in a message is not a present symptom (guide/negation.py).

Plain text, no spaCy: the phrase is located with ``str.find``. The red-flag matcher's
own tests (tests/nlu_components/test_red_flags.py) run the same rules on real matches.
"""

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from guide.negation import HYPOTHETICAL, NEGATED, PAST, REASSURED, SymptomContext, why_not_present


def judge(text: str, phrase: str, gapped=()):
    start = text.lower().find(phrase.lower())
    assert start >= 0, (phrase, text)
    return SymptomContext(text).why_not_present(start, start + len(phrase), gapped)


@pytest.mark.parametrize("text, phrase", [
    ("there is no chest pain", "chest pain"),
    ("I am not short of breath when walking", "short of breath"),
    ("He doesn't have any trouble breathing", "trouble breathing"),
    ("she hasn't been feeling faint", "feeling faint"),
    ("No signs of a stroke according to the GP", "signs of a stroke"),
    ("free of chest pain since the op", "chest pain"),
    ("Patient denies chest pain", "chest pain"),
    ("zero chest tightness", "chest tightness"),
    ("Never fainted in my life", "fainted"),
    ("without any difficulty breathing", "difficulty breathing"),
    ("no longer bleeding heavily", "bleeding heavily"),
    ("I don’t have a high fever", "high fever"),  # curly apostrophe
    ("no fever, cough or chest pain", "chest pain"),
    ("no fever, chest pain or cough", "chest pain"),
    ("neither chest pain nor shortness of breath", "shortness of breath"),
    ("Chest pain: none", "Chest pain"),
    ("never coughed blood, no fever", "blood"),
])
def test_a_negation_before_the_phrase_drops_it(text, phrase):
    assert judge(text, phrase) == NEGATED


@pytest.mark.parametrize("text, phrase", [
    ("she isn't breathing", "isn't breathing"),
    ("he can't breathe", "can't breathe"),
    ("I don't feel my arm", "don't feel my arm"),
    ("my dad is not responding", "not responding"),
    ("she won't wake up", "won't wake up"),
    ("I hope he's not having a stroke", "having a stroke"),  # a worry, not a denial
    ("I'm not sure but I think he's having a stroke", "having a stroke"),
    ("not sure if it's chest pain", "chest pain"),
    ("No, I have chest pain", "chest pain"),  # an answer
    ("no I have chest pain", "chest pain"),
    ("I've never had chest pain like this", "chest pain"),
    ("I can't walk without chest pain", "chest pain"),  # double negative
    ("no fever, chest pain now", "chest pain"),  # a comma is no "or"
    ("not just chest pain, he fainted", "chest pain"),
    ("I didn't have chest pain yesterday but today I do", "chest pain"),
    ("is he not breathing or not responding", "not responding"),
])
def test_a_negation_that_is_the_symptom_or_is_no_denial_keeps_it(text, phrase):
    assert judge(text, phrase) is None


@pytest.mark.parametrize("text, phrase", [
    ("I fainted years ago but I'm fine now", "fainted"),
    ("my dad collapsed 10 years ago and is stable now", "collapsed"),
    ("had a high fever as a kid", "high fever"),
    ("As a teenager I blacked out", "blacked out"),
    ("Years ago, I passed out at a wedding", "passed out"),
    ("back in 2015 she had signs of a stroke", "signs of a stroke"),
    ("I used to get chest pains", "chest pains"),
    ("in the past I had trouble breathing", "trouble breathing"),
    ("my gran collapsed a while back", "collapsed"),
    ("she fainted but she's ok now", "fainted"),
    ("Is fainting years ago linked to calcium?", "fainting"),  # a question, not a present tense
    ("my chest pain last month was a pulled muscle, doctor checked me over", "chest pain"),
])
def test_a_past_mention_is_dropped(text, phrase):
    assert judge(text, phrase) == PAST


@pytest.mark.parametrize("text, phrase", [
    ("I fainted years ago and again today", "fainted"),
    ("I fainted years ago, I can't breathe", "can't breathe"),
    ("I fainted years ago and now I can't breathe", "can't breathe"),
    ("I had chest pain years ago but it came back", "chest pain"),
    ("I fainted in the past hour", "fainted"),
    ("I'm not used to chest pain like this", "chest pain"),
    ("I can't breathe since I had covid years ago", "can't breathe"),
    ("My chest hurts but my breathing is fine now", "chest hurts"),  # present tense
    ("she fainted this morning and is fine now", "fainted"),
    ("my husband who had a stroke two years ago can't speak", "can't speak"),
    ("my dad who fainted as a kid is slurring his words", "slurring"),
])
def test_a_present_mention_next_to_a_past_one_is_kept(text, phrase):
    assert judge(text, phrase) is None


@pytest.mark.parametrize("text, phrase", [
    ("Just curious, what does chest pain from calcium feel like?", "chest pain"),
    ("Not an emergency, is chest tightness linked to calcification", "chest tightness"),
])
def test_a_reassured_general_question_is_dropped(text, phrase):
    assert judge(text, phrase) == REASSURED


@pytest.mark.parametrize("text, phrase", [
    ("Not an emergency, but my dad collapsed", "collapsed"),
    ("don't worry about me, I can't breathe", "can't breathe"),
    ("just curious, I have chest pain, is it the calcium?", "chest pain"),
])
def test_reassurance_keeps_a_reported_symptom(text, phrase):
    assert judge(text, phrase) is None


@pytest.mark.parametrize("text, phrase", [
    ("if I ever had trouble breathing because of lung calcification, what should I do?", "trouble breathing"),
    ("What should I do if I ever get chest pain? Just want a plan ready.", "chest pain"),
    ("If I feel faint during the biopsy, will they stop?", "feel faint"),
    ("what would chest pain from calcium feel like?", "chest pain"),
    ("is it possible to pass out from aortic valve calcification?", "pass out"),
    ("What happens if someone overdoses on calcium supplements?", "overdoses"),
    ("in case he has a seizure, who do we call?", "seizure"),
    ("can calcification cause chest pain?", "chest pain"),
])
def test_a_condition_or_a_question_about_the_illness_is_hypothetical(text, phrase):
    assert judge(text, phrase) == HYPOTHETICAL


@pytest.mark.parametrize("text, phrase", [
    ("what would you do, my dad collapsed and isn't breathing", "collapsed"),   # another clause
    ("not sure if this is chest pain or heartburn", "chest pain"),             # a doubt, not a condition
    ("I don't know if I feel faint or just tired", "feel faint"),
    ("what would cause my chest pain", "chest pain"),                          # someone named
    ("what if I have chest pain right now", "chest pain"),                     # happening now
    ("how do I help him, he can't breathe", "can't breathe"),
    ("Is it normal to have trouble breathing after surgery?", "trouble breathing"),
])
def test_a_present_symptom_near_a_question_is_kept(text, phrase):
    assert judge(text, phrase) is None


@pytest.mark.parametrize("text, phrase", [
    ("the wound got infected after my op in march but antibiotics cleared it, its fully healed now", "infected"),
    ("Grandpa choked on his tea earlier, coughed it up and he's completely fine", "choked"),
    ("felt dizzy for a sec after standing up, it passed and I'm fine today", "dizzy"),
    ("Chest pain last week turned out to be a pulled muscle", "Chest pain"),
])
def test_a_symptom_that_is_over_is_dropped(text, phrase):
    assert judge(text, phrase) == PAST


def test_a_negation_inside_a_gap_counts_but_not_one_of_the_phrase():
    assert judge("my speech isn't slurred", "speech isn't slurred", ["speech ... slurred"]) == NEGATED
    assert judge("the wound is not oozing", "wound is not oozing", ["wound ... oozing"]) == NEGATED
    assert judge("the bleeding really won't stop", "bleeding really won't stop",
                 ["bleeding ... won't stop"]) is None


def test_a_phrase_over_a_clause_break_is_kept_unless_its_last_clause_is_negated():
    assert judge("no wound pain, it is red and hot", "wound pain, it is red and hot") is None
    assert judge("no chest pain, no chest pressure", "chest pain, no chest pressure") == NEGATED


def test_clause_spans_cut_at_punctuation_and_contrast_words():
    text = "No fever, but I have chest pain. I fainted (twice) and now I can't breathe"
    assert [text[a:b] for a, b in SymptomContext(text).clause_spans()] == [
        "No fever", "I have chest pain", "I fainted", "twice", "and now I can't breathe"]


def test_the_module_function_is_the_method():
    assert why_not_present("no chest pain", 3, 13) == NEGATED


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300), st.integers(-5, 320), st.integers(-5, 320))
def test_any_text_and_span_is_judged_without_error(text, start, end):
    assert why_not_present(text, start, end) in (None, NEGATED, PAST, REASSURED)

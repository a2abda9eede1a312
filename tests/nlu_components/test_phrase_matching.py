"""Phrase matching (nlu_components/phrase_matching.py): merging the gap patterns that
word classes multiply must not change what is matched."""

from hypothesis import HealthCheck, given, settings, strategies as st
from spacy.matcher import Matcher
from spacy.tokens import Doc

from nlu_components.phrase_matching import _merged

WORDS = ["chest", "pain", "hurts", "tight", "my", "can't", "breathe", "is", "really"]
token = st.one_of(st.sampled_from(WORDS).map(lambda w: {"LOWER": w}), st.just({"OP": "{,4}"}))
patterns = st.lists(st.lists(token, min_size=1, max_size=4).filter(lambda p: "LOWER" in p[0]),
                    min_size=1, max_size=12)


def matches(nlp, pattern_list, words):
    matcher = Matcher(nlp.vocab, validate=False)
    matcher.add("x", pattern_list)
    return sorted({(s, e) for _, s, e in matcher(Doc(nlp.vocab, words=words))})


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(patterns, st.lists(st.sampled_from(WORDS + ["so", "much"]), min_size=1, max_size=9))
def test_merged_patterns_match_exactly_what_the_patterns_did(nlp, pattern_list, words):
    merged = _merged(pattern_list)
    assert len(merged) <= len({repr(p) for p in pattern_list})
    assert matches(nlp, merged, words) == matches(nlp, pattern_list, words)


def test_a_product_of_word_classes_becomes_one_pattern():
    product = [[{"LOWER": a}, {"OP": "{,4}"}, {"LOWER": b}] for a in ("chest", "breastbone")
               for b in ("pain", "hurts", "tight")]
    assert _merged(product) == [[{"LOWER": {"IN": ["breastbone", "chest"]}}, {"OP": "{,4}"},
                                 {"LOWER": {"IN": ["hurts", "pain", "tight"]}}]]

"""Reading the red-flag phrase file (guide/red_flags.py); the phrases themselves are
tested one by one in tests/nlu_components/test_red_flags.py."""

import collections

import pytest

from guide.red_flags import RedFlagFileError, read_flags, samples


def test_malformed_flag_file_is_refused(tmp_path):
    bad = tmp_path / "flags.yml"
    bad.write_text("flags:\n  chest_pain:\n    label: chest pain\n")
    with pytest.raises(RedFlagFileError, match="chest_pain"):
        read_flags(bad)


def test_the_real_file_names_each_flag_as_the_advice_says_it():
    # The advice reads "<Label> can be a medical emergency": a lower-case noun phrase.
    from tests.conftest import RED_FLAGS

    flags = read_flags(RED_FLAGS)
    for flag, spec in flags.items():
        label = spec["label"]
        assert label == label.strip() and label[0].islower() and label[-1].isalnum(), flag


def test_the_real_file_lists_each_phrase_once():
    from tests.conftest import RED_FLAGS

    flags = read_flags(RED_FLAGS).values()
    written = [p.lower() for spec in flags for p in spec["written"]]
    assert sorted({p for p in written if written.count(p) > 1}) == []
    # Nor does a word class make a phrase another flag has: one span names one flag.
    expanded = collections.Counter(p.lower() for spec in flags for p in spec["phrases"])
    assert sorted(p for p, n in expanded.items() if n > 1) == []


def test_word_classes_stand_for_every_combination(tmp_path):
    path = tmp_path / "flags.yml"
    path.write_text("words:\n  cannot: [can't, hardly]\n  breathe: [breathe, get my breath]\n"
                    "flags:\n  breathing:\n    label: trouble breathing\n"
                    "    phrases: [\"<cannot> <breathe>\", gasping]\n")
    spec = read_flags(path)["breathing"]
    assert spec["written"] == ["<cannot> <breathe>", "gasping"]
    assert spec["phrases"] == ["can't breathe", "can't get my breath", "hardly breathe", "hardly get my breath",
                               "gasping"]
    assert samples("<cannot> ... <breathe>", {"cannot": ["can't", "hardly"], "breathe": ["breathe"]}) == [
        "can't ... breathe", "hardly ... breathe"]


@pytest.mark.parametrize("words, phrase, message", [
    ("words:\n  cannot: [can't]\n", "<cant> breathe", "unknown word class <cant>"),
    ("words:\n  cannot: []\n", "<cannot> breathe", "word class 'cannot'"),
    ("words:\n  cannot: [\"a ... b\"]\n", "<cannot> breathe", "word class 'cannot'"),
    ("words: [can't]\n", "breathe", "'words' must map"),
])
def test_malformed_word_classes_are_refused(tmp_path, words, phrase, message):
    path = tmp_path / "flags.yml"
    path.write_text(words + f"flags:\n  breathing:\n    label: trouble breathing\n    phrases: [\"{phrase}\"]\n")
    with pytest.raises(RedFlagFileError, match=message):
        read_flags(path)

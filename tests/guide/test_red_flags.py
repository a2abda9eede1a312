"""Reading the red-flag phrase file (guide/red_flags.py); the phrases themselves are
tested one by one in tests/nlu_components/test_red_flags.py."""

import pytest

from guide.red_flags import RedFlagFileError, read_flags


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

    phrases = [str(p).lower() for spec in read_flags(RED_FLAGS).values() for p in spec["phrases"]]
    assert sorted({p for p in phrases if phrases.count(p) > 1}) == []

"""Reading the red-flag phrase file (guide/red_flags.py); the phrases themselves are
tested one by one in tests/nlu_components/test_red_flags.py."""

import pytest

from guide.red_flags import RedFlagFileError, read_flags


def test_malformed_flag_file_is_refused(tmp_path):
    bad = tmp_path / "flags.yml"
    bad.write_text("flags:\n  chest_pain:\n    label: chest pain\n")
    with pytest.raises(RedFlagFileError, match="chest_pain"):
        read_flags(bad)

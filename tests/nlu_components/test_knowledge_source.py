"""A loaded component says so when the knowledge files changed since it was trained."""

import logging

from nlu_components import knowledge_source
from tests.conftest import GUIDE


def test_changed_knowledge_is_reported_at_load(tmp_path, caplog):
    guide = tmp_path / "guide.txt"
    guide.write_bytes(GUIDE.read_bytes())
    model = tmp_path / "model"
    model.mkdir()
    knowledge_source.record(model, [guide])
    with caplog.at_level(logging.WARNING):
        assert not knowledge_source.warn_if_changed(model, [guide], "GuideEntityExtractor")
        assert caplog.text == ""
        guide.write_text("another guide")
        assert knowledge_source.warn_if_changed(model, [guide], "GuideEntityExtractor")
    assert "GuideEntityExtractor was trained from other knowledge files" in caplog.text
    assert str(guide) in caplog.text


def test_a_model_without_a_record_is_not_checked(tmp_path):
    assert not knowledge_source.warn_if_changed(tmp_path, [GUIDE], "RedFlagMatcher")


def test_knowledge_files_absent_where_rasa_runs_are_not_reported(tmp_path):
    knowledge_source.record(tmp_path, [GUIDE])
    assert not knowledge_source.warn_if_changed(tmp_path, [tmp_path / "absent.txt"], "RedFlagMatcher")

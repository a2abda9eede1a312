"""tools/corrections.py (``make corrections``): the console's corrections become training data
only when they validate; the before/after measure on a trained model."""

from __future__ import annotations

import sqlalchemy as sa

from storage.engine import create_engine, migrate
from storage.time import utcnow
from tests.support import trained_model
from tools import corrections
from webapp.staff import tables as t


def console_db(tmp_path, rows):
    url = f"sqlite:///{tmp_path / 'assistant.db'}"
    engine = create_engine(url)
    migrate(engine, "staff")
    with engine.begin() as conn:
        for i, (text, intent) in enumerate(rows, 1):
            conn.execute(t.corrections.insert().values(
                event_id=i, conversation_id=f"c{i}", original_intent="nlu_fallback", intent=intent, text=text,
                entities="[]", author="ada", created_at=utcnow(), updated_at=utcnow()))
    engine.dispose()
    return url


def test_no_console_tables_means_nothing_to_learn(tmp_path, capsys):
    out = tmp_path / "corrections.yml"
    assert corrections.main(["--database-url", f"sqlite:///{tmp_path / 'empty.db'}", "--out", str(out)]) == 0
    assert "no corrections yet" in capsys.readouterr().out and not out.exists()


def test_corrections_that_validate_are_written(tmp_path, capsys):
    url = console_db(tmp_path, [("is the calcium lump in my breast dangerous", "ask_types")])
    out = tmp_path / "corrections.yml"
    assert corrections.main(["--database-url", url, "--out", str(out), "--no-train"]) == 0
    assert corrections.examples(out) == [("is the calcium lump in my breast dangerous", "ask_types")]
    assert "1 corrected messages; the training data validates" in capsys.readouterr().out


def test_a_correction_contradicting_the_training_data_is_refused_and_the_file_kept(tmp_path, capsys):
    from rasa.shared.nlu.training_data.loading import load_data

    trained = load_data(str(corrections.ROOT / "data" / "nlu" / "types.yml")).intent_examples[0]
    other = "ask_treatment" if trained.get("intent") != "ask_treatment" else "ask_recovery"
    url = console_db(tmp_path, [(trained.get("text"), other)])
    out = tmp_path / "corrections.yml"
    out.write_text('version: "3.1"\nnlu: []\n', encoding="utf-8")
    assert corrections.main(["--database-url", url, "--out", str(out), "--no-train"]) == 1
    assert "contradict" in capsys.readouterr().out
    assert out.read_text(encoding="utf-8") == 'version: "3.1"\nnlu: []\n'


def test_the_measure_counts_intents_right(tmp_path):
    model = trained_model()
    result = corrections.intent_accuracy(model, {"set": [("what are calcified lesions?", "ask_definition"),
                                                         ("what are calcified lesions?", "greet")]})
    assert result == {"set": {"right": 1, "total": 2, "share": 0.5}}

"""The numpy all-MiniLM-L6-v2 against the model's published behaviour, and its edges."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from semantic import encoder
from semantic.wordpiece import WordPiece, basic_words


@pytest.fixture(scope="module")
def enc():
    return encoder.load()


def test_reference_similarity_of_the_sentence_transformers_model(enc):
    # sentence-transformers' all-MiniLM-L6-v2 gives 0.7553 for this pair
    a, b = enc.encode(["A man is eating food.", "A man is eating a piece of bread."])
    assert float(a @ b) == pytest.approx(0.7553, abs=0.001)


def test_vectors_are_unit_length_and_batching_changes_nothing(enc):
    texts = ["kidney stones", "who treats calcium in the heart arteries?", "", "x" * 3000]
    batch = enc.encode(texts, batch_size=2)
    assert batch.shape == (4, encoder.DIMENSION)
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    for text, vector in zip(texts, batch):
        assert np.allclose(enc.encode_one(text), vector, atol=1e-5)


def test_meaning_beats_shared_words(enc):
    q = enc.encode_one("can they cut it out?")
    surgery = enc.encode_one("Surgical Removal: In some cases, surgical removal of the calcified lesion may be necessary.")
    diet = enc.encode_one("Lifestyle Changes: a healthy diet and regular exercise")
    assert float(q @ surgery) > float(q @ diet)


def test_bert_basic_tokenizer_rules():
    assert basic_words("Héllo, WORLD!! x-ray") == ["hello", ",", "world", "!", "!", "x", "-", "ray"]
    assert basic_words("\x00\ufffd  \t") == []


def test_wordpiece_splits_unknown_words_and_caps_length(enc):
    tok: WordPiece = enc.tokenizer
    ids = tok.encode("calcifications", 256)
    assert ids[0] == tok.cls and ids[-1] == tok.sep and len(ids) > 3  # split into pieces
    assert tok.encode("word " * 1000, 16)[-1] == tok.sep and len(tok.encode("word " * 1000, 16)) == 16


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300))
def test_any_text_encodes_to_a_finite_vector(text):
    vector = encoder.load().encode_one(text)
    assert vector.shape == (encoder.DIMENSION,) and np.isfinite(vector).all()


def test_a_missing_model_says_how_to_install_it(tmp_path):
    with pytest.raises(encoder.EncoderMissing, match="make install"):
        encoder.Encoder(tmp_path)

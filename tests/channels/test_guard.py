"""The input guard every channel uses (channels/guard.py), with examples and Hypothesis."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from channels.guard import (MAX_BODY_BYTES, MAX_MESSAGE_CHARS, MAX_SENDER_CHARS, InputRejected, check_sender,
                            clean_message, json_object, metadata_object)

ANY_TEXT = st.text(st.characters(codec=None, categories=None), max_size=5000)  # surrogates and controls too
FUZZ = settings(max_examples=300, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("raw, text, cut", [
    ("hello", "hello", False),
    ("rt-\udc00 hello", "rt-\ufffd hello", False),  # a lone surrogate cannot be stored: replaced
    ("a\x00b\x07c", "abc", False),
    ("line one\nline two\ttab", "line one\nline two\ttab", False),
    ("e\u0301", "\u00e9", False),  # NFC
    (None, "", False),
    ("", "", False),
    ("x" * MAX_MESSAGE_CHARS, "x" * MAX_MESSAGE_CHARS, False),
    ("x" * (MAX_MESSAGE_CHARS + 1), "x" * MAX_MESSAGE_CHARS, True),
])
def test_clean_message(raw, text, cut):
    assert clean_message(raw) == (clean_message(raw).__class__(text, cut))


def test_a_message_that_is_not_text_is_refused():
    for raw in (5, ["hi"], {"text": "hi"}, b"hi"):
        with pytest.raises(InputRejected):
            clean_message(raw)


def test_cleaning_time_does_not_grow_beyond_the_cap():
    """A megabyte costs no more than a few times the cap's worth (both measured here, same run)."""
    def best_of(raw: str) -> float:
        times = []
        for _ in range(5):
            start = time.perf_counter()
            clean_message(raw)
            times.append(time.perf_counter() - start)
        return min(times)

    at_cap = best_of("é" * MAX_MESSAGE_CHARS)
    huge = best_of("é" * 1_000_000)
    assert huge < at_cap * 10 + 0.001


@FUZZ
@given(ANY_TEXT)
def test_any_text_comes_out_storable_and_bounded(raw):
    guarded = clean_message(raw)
    guarded.text.encode("utf-8")  # no lone surrogate left
    assert len(guarded.text) <= MAX_MESSAGE_CHARS
    assert "\x00" not in guarded.text
    if len(raw) > MAX_MESSAGE_CHARS * 2:
        assert guarded.cut
    if len(raw) <= MAX_MESSAGE_CHARS // 3:  # NFC expands a character to at most three
        assert not guarded.cut


@FUZZ
@given(st.text(st.characters(codec="utf-8", exclude_categories=["Cc"]), max_size=MAX_MESSAGE_CHARS // 3))
def test_ordinary_text_is_kept_whole(raw):
    import unicodedata

    assert clean_message(raw).text == unicodedata.normalize("NFC", raw)


@pytest.mark.parametrize("sender", ["rt-123", "patient 7", "Ünïcode-名前", "x" * MAX_SENDER_CHARS])
def test_good_senders_pass_unchanged(sender):
    assert check_sender(sender) == sender


@pytest.mark.parametrize("sender", ["rt-\udc00", "", "   ", "a\nb", "nul\x00", "x" * (MAX_SENDER_CHARS + 1),
                                    None, 42, ["a"], {"id": 1}])
def test_bad_senders_are_refused(sender):
    with pytest.raises(InputRejected):
        check_sender(sender)


@FUZZ
@given(st.one_of(ANY_TEXT, st.integers(), st.none(), st.lists(st.text(max_size=3))))
def test_a_sender_is_either_refused_or_storable(raw):
    try:
        sender = check_sender(raw)
    except InputRejected as exc:
        str(exc).encode("utf-8")
        return
    sender.encode("utf-8")
    assert 0 < len(sender) <= MAX_SENDER_CHARS


@pytest.mark.parametrize("body", [b"", b"   ", b"[]", b"null", b"42", b'"text"', b"{bad", b"\xff\xfe",
                                  b"[" * 100_000, b"{}" + b" " * MAX_BODY_BYTES])
def test_only_json_objects_within_the_limit_are_bodies(body):
    with pytest.raises(InputRejected):
        json_object(body)


def test_a_json_object_is_a_body():
    assert json_object(json.dumps({"sender": "a", "message": "b"}).encode()) == {"sender": "a", "message": "b"}


@FUZZ
@given(st.binary(max_size=2000))
def test_any_bytes_are_a_body_or_a_clear_refusal(body):
    try:
        assert isinstance(json_object(body), dict)
    except InputRejected as exc:
        assert str(exc)


def test_metadata_must_be_an_object():
    assert metadata_object(None) == {}
    assert metadata_object({"a": 1}) == {"a": 1}
    for bad in ("{}", [1], 3):
        with pytest.raises(InputRejected):
            metadata_object(bad)

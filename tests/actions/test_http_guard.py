"""The action server's guard (actions/http_guard.py): token and body checks, with Hypothesis."""

from __future__ import annotations

import json
import zlib

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from actions.http_guard import MAX_BODY_BYTES, call_problem, inflate, token_problem

CALL = {"next_action": "action_answer_question", "sender_id": "a", "tracker": {"events": []}, "domain": {}}


@pytest.mark.parametrize("expected, header, query, problem", [
    ("", None, None, None),                      # no token configured: loopback only, nothing to check
    ("s3cret", "Bearer s3cret", None, None),
    ("s3cret", None, "s3cret", None),            # Rasa's `token:` endpoint option
    ("s3cret", None, None, "missing token"),
    ("s3cret", "Bearer s3cre", None, "wrong token"),
    ("s3cret", "Basic s3cret", None, "missing token"),
    ("s3cret", "Bearer \udc00", None, "wrong token"),
])
def test_token(expected, header, query, problem):
    assert token_problem(expected, header, query) == problem


def test_a_call_is_a_json_object_with_an_action_and_a_tracker():
    assert call_problem(json.dumps(CALL).encode(), None) is None
    assert call_problem(zlib.compress(json.dumps(CALL).encode()), "deflate") is None
    for body, problem in [(b"", "not valid JSON"), (b"[]", "JSON object"), (b'{"tracker": {}}', "next_action"),
                          (b'{"next_action": "x", "tracker": []}', "tracker"),
                          (b'{"next_action": "x", "tracker": {}, "domain": 1}', "domain")]:
        assert problem in call_problem(body, None)


def test_a_deflate_bomb_is_refused_without_inflating_it_all():
    bomb = zlib.compress(b"{" + b" " * (MAX_BODY_BYTES + 1024))
    assert len(bomb) < 100_000
    assert "larger than" in call_problem(bomb, "deflate")
    with pytest.raises(ValueError):
        inflate(b"not deflate")


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=500),
                 st.recursive(st.none() | st.integers() | st.text(st.characters(codec=None), max_size=10),
                              lambda inner: st.lists(inner, max_size=3)
                              | st.dictionaries(st.sampled_from(["next_action", "tracker", "domain", "x"]), inner,
                                                max_size=4), max_leaves=10).map(lambda v: json.dumps(v).encode())),
       st.sampled_from([None, "deflate", "gzip"]))
def test_fuzz_any_body_is_a_call_or_a_reason(body, encoding):
    problem = call_problem(body, encoding)
    if problem is None:
        raw = zlib.decompress(body) if encoding == "deflate" else body
        call = json.loads(raw)
        assert isinstance(call["next_action"], str) and isinstance(call["tracker"], dict)
    else:
        assert isinstance(problem, str) and problem


def test_a_failing_action_answers_without_echoing_the_patients_words(caplog):
    """rasa-sdk's handler echoed the whole tracker in its 500 answer and logged the exception text."""
    import asyncio

    from rasa_sdk.endpoint import create_app

    from actions import http_guard

    app = create_app("actions")
    http_guard.install(app, "")

    @app.post("/explode")
    async def explode(_request):
        raise ValueError("my name is Anna Stone")

    async def scenario():
        _, answer = await app.asgi_client.post("/explode", content=b'{"tracker": {"text": "Anna Stone"}}')
        return answer

    answer = asyncio.run(scenario())
    assert answer.status == 500 and answer.json == {"error": "the action failed"}
    assert "Anna" not in caplog.text and "ValueError" in caplog.text

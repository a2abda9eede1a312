"""The REST channel behind the input guard (channels/rest.py), mounted as Rasa mounts it."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from channels.guard import CUT_NOTICE, MAX_MESSAGE_CHARS
from channels.rest import RestInput
from tests.channels.conftest import ChannelApp, RecordingBot

JSON = {"Content-Type": "application/json"}
PATH = "/webhooks/rest/webhook"


def post(app: ChannelApp, body) -> tuple:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    status, text = app.post(PATH, raw, JSON)
    return status, json.loads(text) if text else None


@pytest.fixture
def app():
    return ChannelApp(RestInput(), RecordingBot())


def test_a_message_is_answered(app):
    status, replies = post(app, {"sender": "rt-1", "message": "what types are there?"})
    assert status == 200 and replies == [{"recipient_id": "rt-1", "text": "You said: what types are there?"}]
    assert [(m.text, m.sender_id, m.input_channel) for m in app.bot.messages] == [
        ("what types are there?", "rt-1", "rest")]


@pytest.mark.parametrize("body, error", [
    (b"", "JSON object"),                                   # finding 10: empty body was a 500
    (b"[1, 2]", "JSON object"),                             # finding 10: not an object was a 500
    (b"null", "JSON object"),
    (b"{not json", "not valid JSON"),
    (b'{"sender": "rt-\\udc00", "message": "hello"}', "printable"),  # finding 1: stopped Rasa
    (b'{"message": "hello"}', "sender"),
    (b'{"sender": "", "message": "hello"}', "sender"),
    (b'{"sender": "rt-1", "message": 5}', "message"),
    (b'{"sender": "rt-1", "message": "hi", "metadata": "x"}', "metadata"),
])
def test_bad_bodies_get_a_400_with_a_json_error(app, body, error):
    status, answer = post(app, body)
    assert status == 400 and error in answer["error"]
    assert app.bot.messages == []


@pytest.mark.parametrize("sender", ["ab" * 32, "AB" * 32, "telegram:12345", "Slack:T1:U2"])
def test_other_channels_conversations_cannot_be_written_through_rest(app, sender):
    status, answer = post(app, {"sender": sender, "message": "cancel"})
    assert status == 400 and "another channel" in answer["error"]
    assert app.bot.messages == []


def test_a_long_message_is_cut_and_the_patient_is_told(app):
    status, replies = post(app, {"sender": "rt-2", "message": "my kidney " * 90_000})  # 900 KB
    assert status == 200
    [message] = app.bot.messages
    assert MAX_MESSAGE_CHARS - 1 <= len(message.text) <= MAX_MESSAGE_CHARS  # Rasa strips the last space
    assert replies[-1] == {"recipient_id": "rt-2", "text": CUT_NOTICE}


def test_broken_unicode_in_the_text_is_repaired_not_stored(app):
    status, _ = post(app, b'{"sender": "rt-3", "message": "pain \\ud83d here\\u0000"}')
    assert status == 200 and app.bot.texts == ["pain \ufffd here"]


def test_the_client_cannot_choose_the_input_channel(app):
    post(app, {"sender": "rt-4", "message": "hi", "input_channel": "telegram"})
    assert app.bot.messages[0].input_channel == "rest"


def test_a_failing_turn_is_logged_without_the_patients_words(caplog):
    def explode(_message):
        raise RuntimeError("boom")

    app = ChannelApp(RestInput(), RecordingBot(explode))
    status, answer = post(app, {"sender": "rt-5", "message": "my name is Anna Stone"})
    # nothing was said: the client is told to try again (e.g. Redis or the database is down)
    assert status == 503 and answer == {"error": "The assistant is briefly unavailable. Please try again in a minute."}
    assert "RuntimeError" in caplog.text and "Anna" not in caplog.text and "rt-5" not in caplog.text


def test_a_turn_failing_after_a_reply_is_refused_with_what_was_said():
    class HalfWay(RecordingBot):
        async def __call__(self, message):
            await message.output_channel.send_response(message.sender_id, {"text": "first part"})
            raise RuntimeError("boom")

    status, answer = post(ChannelApp(RestInput(), HalfWay()), {"sender": "rt-6", "message": "hello"})
    # not stored, so not a 200; but what was said (emergency advice, say) is never withheld
    assert status == 503 and answer == {
        "error": "The assistant is briefly unavailable. Please try again in a minute.",
        "said": [{"recipient_id": "rt-6", "text": "first part"}]}


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(st.characters(codec=None)),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)
BODIES = st.one_of(
    st.binary(max_size=300),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({}, optional={"sender": JSON_VALUES, "message": JSON_VALUES, "metadata": JSON_VALUES,
                                        "input_channel": JSON_VALUES}).map(lambda v: json.dumps(v).encode()),
)


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(BODIES)
def test_fuzz_any_body_gets_an_answer_or_a_clear_400(body):
    app = ChannelApp(RestInput(), RecordingBot())
    status, text = app.post(PATH, body, JSON)
    assert status in (200, 400), (status, text)
    answer = json.loads(text)
    if status == 400:
        assert isinstance(answer["error"], str)
        assert app.bot.messages == []
    for message in app.bot.messages:  # what reaches Rasa can be stored
        message.text.encode("utf-8")
        message.sender_id.encode("utf-8")
        assert len(message.text) <= MAX_MESSAGE_CHARS and isinstance(message.metadata, dict)

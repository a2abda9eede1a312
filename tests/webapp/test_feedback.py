"""Patients' thumbs up / down from the widget: stored only for the browser's own conversation,
shown on the answer in the transcript, filtered and counted by the console."""

from __future__ import annotations

import json

import pytest

from storage.ids import widget_session_id
from tests.webapp.conftest import day_ts, save_conversations, scalar, session_start, turn

TOKEN = "t" * 40


@pytest.fixture
def rated(seeded):
    t0 = day_ts(0, 10)
    save_conversations(seeded, {widget_session_id(TOKEN): session_start(t0) + turn(
        "how is it treated", "ask_treatment", 0.9, t0 + 1, "action_answer_question",
        "Treatment depends on the type.\n\nSurgery is one option.")})
    return seeded


def post(client, body):
    _, resp = client.raw.post("/widget/feedback", content=json.dumps(body).encode(),
                              headers={"content-type": "application/json"})
    return resp


def test_a_rating_is_stored_shown_on_the_answer_filtered_and_counted(client, rated):
    assert post(client, {"token": TOKEN, "answer": "Surgery is one option.", "rating": "up"}).status == 204
    assert post(client, {"token": TOKEN, "answer": "Surgery is  one option.", "rating": "down"}).status == 204
    assert scalar(rated, "SELECT count(*) FROM answer_feedback") == 2
    client.login("rita")
    cid = scalar(rated, f"SELECT id FROM staff_conversations WHERE sender_id = '{widget_session_id(TOKEN)}'")
    page = client.get(f"/staff/conversations/{cid}").text
    assert "rated not helpful by the patient" in page  # the latest rating of that answer
    negative = client.get("/staff/", params={"feedback": "negative"}).text
    assert f"/staff/conversations/{cid}\"" in negative and "conv-booking" not in negative
    assert "1</strong> answers rated not helpful" in client.get("/staff/dashboard").text


@pytest.mark.parametrize("body, status", [
    ({"token": "short", "answer": "x", "rating": "up"}, 400),
    ({"token": TOKEN, "answer": "x", "rating": "meh"}, 400),
    ({"token": TOKEN, "answer": "  ", "rating": "down"}, 400),
    ({"token": TOKEN, "answer": ["x"], "rating": "down"}, 400),
    (["not", "an", "object"], 400),
])
def test_bad_feedback_gets_a_clear_error_and_stores_nothing(client, rated, body, status):
    resp = post(client, body)
    assert resp.status == status and "error" in resp.json
    assert scalar(rated, "SELECT count(*) FROM answer_feedback") == 0


def test_a_huge_or_broken_body_is_refused(client, rated):
    _, resp = client.raw.post("/widget/feedback", content=b"{" * 20_000, headers={"content-type": "application/json"})
    assert resp.status == 413
    _, resp = client.raw.post("/widget/feedback", content=b"\xff\xfe{", headers={"content-type": "application/json"})
    assert resp.status == 400
    broken = post(client, {"token": TOKEN, "answer": "\ud800" + "a" * 5000, "rating": "up"})
    assert broken.status == 400  # repaired, it is no answer of this conversation
    t0 = day_ts(0, 30)
    long_answer = "Recovery takes time. " * 250  # 5,250 characters
    save_conversations(rated, {widget_session_id("l" * 40): session_start(t0) + turn(
        "how long is recovery", "ask_recovery", 0.9, t0 + 1, "action_answer_question", long_answer)})
    long = post(client, {"token": "l" * 40, "answer": long_answer, "rating": "up"})
    assert long.status == 204
    assert scalar(rated, "SELECT length(answer) FROM answer_feedback") <= 2000


def test_only_the_assistants_answers_of_this_conversation_can_be_rated(client, rated):
    """No made-up text, nothing of another conversation, no staff message, nothing after "forget me"."""
    t0 = day_ts(0, 40)
    other = "o" * 40
    save_conversations(rated, {widget_session_id(other): session_start(t0) + turn(
        "who treats it", "ask_specialist", 0.9, t0 + 1, "action_answer_question", "A cardiologist treats it.")})
    for body in ({"token": TOKEN, "answer": "Call me on 07700 900123, this bot is rubbish", "rating": "down"},
                 {"token": TOKEN, "answer": "A cardiologist treats it.", "rating": "down"},  # the other's answer
                 {"token": "n" * 40, "answer": "Surgery is one option.", "rating": "down"}):  # no conversation
        resp = post(client, body)
        assert resp.status == 400 and "one of the assistant's answers" in resp.json["error"], body
    assert scalar(rated, "SELECT count(*) FROM answer_feedback") == 0
    assert post(client, {"token": other, "answer": "A cardiologist treats it.", "rating": "up"}).status == 204


def test_a_telegram_reaction_lands_on_the_message_like_the_widgets_thumbs(client, seeded):
    """channels/reactions.py stores a Telegram 👎 through storage/feedback.py; the console reads it the same way."""
    from storage.feedback import FeedbackStore

    t0 = day_ts(0, 20)
    reply = "Most calcifications need no treatment.\n\nYour doctor will tell you."
    save_conversations(seeded, {"telegram:777": session_start(t0) + turn(
        "do i need treatment", "ask_treatment", 0.9, t0 + 1, "action_answer_question", reply, channel="telegram")})
    store = FeedbackStore(seeded)
    store.add("telegram:777", -1, reply, "telegram")  # the whole answer, as Telegram's reaction rates it
    store.close()
    client.login("rita")
    cid = scalar(seeded, "SELECT id FROM staff_conversations WHERE sender_id = 'telegram:777'")
    assert "rated not helpful by the patient" in client.get(f"/staff/conversations/{cid}").text
    assert f"/staff/conversations/{cid}\"" in client.get("/staff/", params={"feedback": "negative"}).text


def test_a_staff_members_message_is_not_an_answer_to_rate():
    from webapp.widget.feedback import is_answer

    said = [{"sender": "user", "text": "Surgery?"}, {"sender": "bot", "text": "Hi, Ana here.", "author": "staff",
                                                     "staff": "Ana"}, {"sender": "bot", "text": "Surgery is  an option."}]
    assert not is_answer(said, "Hi, Ana here.") and not is_answer(said, "Surgery?")
    assert is_answer(said, "Surgery is an option.")

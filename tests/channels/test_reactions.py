"""Telegram and Slack reactions as answer ratings: a patient's 👍 / 👎 on an answer lands in
``answer_feedback`` (a real SQLite database, migrated as the action server does), which the
staff console reads; everything else is ignored without an error."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from channels import reactions, sent_answers
from channels.staff_relay import chat_text
from channels.telegram import ALLOWED_UPDATES
from storage.engine import create_engine, migrate
from tests.channels.conftest import RecordingBot
from tests.channels.fakes import slack_dm_event, slack_reaction
from tests.channels.test_slack import USER, SENDER as SLACK_SENDER, deliver, make as make_slack, posts
from tests.channels.test_telegram import CHAT, make as make_telegram, send

ANSWER = "Calcium deposits are common.\n\nMost need **no treatment**."


@pytest.fixture
def ratings_db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'ratings.db'}"
    engine = create_engine(url)
    migrate(engine, "requests")
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setattr(sent_answers, "_current", sent_answers.MemorySentAnswers())
    yield engine
    engine.dispose()


def rows(engine):
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT conversation_id, rating, answer, channel FROM answer_feedback ORDER BY id"))]


def answered(fake, bot_text=ANSWER):
    app = make_telegram(fake, RecordingBot(lambda m: [{"text": bot_text}], keep=True))
    assert send(app, fake.text_update(CHAT, "are they dangerous?"))[0] == 200
    [call] = fake.calls_of("sendMessage")
    return app, call


def sent_message_ids(fake):
    return [m["message_id"] for m in fake.results_of("sendMessage")]


def test_a_telegram_thumbs_down_then_up_is_stored_on_the_answer(fake_telegram, ratings_db):
    app, _ = answered(fake_telegram)
    [message_id] = sent_message_ids(fake_telegram)
    assert send(app, fake_telegram.reaction_update(CHAT, message_id, ["👎"]))[0] == 200
    assert send(app, fake_telegram.reaction_update(CHAT, message_id, ["👍"], old=["👎"]))[0] == 200
    folded = "Calcium deposits are common. Most need **no treatment**."  # as the console matches it
    assert rows(ratings_db) == [(f"telegram:{CHAT}", -1, folded, "telegram"),
                                (f"telegram:{CHAT}", 1, folded, "telegram")]
    assert fake_telegram.calls_of("sendMessage")[1:] == []  # a reaction gets no reply
    assert "message_reaction" in ALLOWED_UPDATES  # Telegram only sends reactions when asked


@pytest.mark.parametrize("emoji", [[], ["❤"], ["🔥", "🙏"], ["👍", "👎"]])
def test_other_telegram_reactions_are_no_rating(fake_telegram, ratings_db, emoji):
    app, _ = answered(fake_telegram)
    [message_id] = sent_message_ids(fake_telegram)
    assert send(app, fake_telegram.reaction_update(CHAT, message_id, emoji, old=["👍"]))[0] == 200
    assert rows(ratings_db) == []


def test_telegram_reactions_elsewhere_are_ignored(fake_telegram, ratings_db):
    app, _ = answered(fake_telegram)
    [message_id] = sent_message_ids(fake_telegram)
    for update in (fake_telegram.reaction_update(CHAT + 1, message_id, ["👎"]),  # another chat's message id
                   fake_telegram.reaction_update(CHAT, message_id + 999, ["👎"]),  # never sent (or forgotten)
                   fake_telegram.reaction_update(CHAT, message_id, ["👎"], chat_type="group")):
        assert send(app, update)[0] == 200
    assert rows(ratings_db) == []


def test_a_reaction_on_a_long_answer_piece_rates_the_whole_answer(fake_telegram, ratings_db):
    long_answer = "\n\n".join(f"Paragraph {i}: " + "calcium " * 60 for i in range(20))
    app = make_telegram(fake_telegram, RecordingBot(lambda m: [{"text": long_answer}], keep=True))
    send(app, fake_telegram.text_update(CHAT, "tell me everything"))
    ids = sent_message_ids(fake_telegram)
    assert len(ids) > 1
    send(app, fake_telegram.reaction_update(CHAT, ids[-1], ["👍"]))
    [(conversation, rating, answer, _)] = rows(ratings_db)
    assert (conversation, rating) == (f"telegram:{CHAT}", 1) and answer == " ".join(long_answer.split())[:2000]


def test_a_staff_message_on_telegram_is_not_rateable(fake_telegram, ratings_db):
    from rasa.shared.core.events import BotUttered

    app = make_telegram(fake_telegram, RecordingBot(keep=True))
    staff = BotUttered("I have booked you for Monday.", metadata={"author": "staff", "staff": "Ana"})
    asyncio_run(app.channel.get_output_channel().send_text_message(f"telegram:{CHAT}", chat_text(staff),
                                                                    author="staff"))
    [message_id] = sent_message_ids(fake_telegram)
    send(app, fake_telegram.reaction_update(CHAT, message_id, ["👎"]))
    assert rows(ratings_db) == []


def test_a_slack_thumbs_down_with_a_skin_tone_is_stored(fake_slack, ratings_db):
    app = make_slack(fake_slack, RecordingBot(lambda m: [{"text": ANSWER}], keep=True))
    assert deliver(app, slack_dm_event(USER, "are they dangerous?", channel="D0DM"))[0] == 200
    [post] = posts(fake_slack)
    [result] = fake_slack.results_of("chat.postMessage")
    assert deliver(app, slack_reaction(USER, "-1::skin-tone-4", result["channel"], result["ts"]))[0] == 200
    assert rows(ratings_db) == [(SLACK_SENDER, -1, " ".join(ANSWER.split()), "slack")]


def test_a_slack_answer_with_more_than_five_buttons_is_rated_as_that_answer(fake_slack, ratings_db):
    """Slack shows it as a numbered list (the text Rasa stored plus the list): the rating is the answer's."""
    six = [{"title": f"Type {i}", "payload": f"/choose{{\"n\":{i}}}"} for i in range(1, 7)]
    app = make_slack(fake_slack, RecordingBot(lambda m: [{"text": ANSWER, "buttons": six}], keep=True))
    deliver(app, slack_dm_event(USER, "what types are there?", channel="D0DM"))
    [result] = fake_slack.results_of("chat.postMessage")
    assert "6. Type 6" in result["message"]["text"]
    deliver(app, slack_reaction(USER, "+1", result["channel"], result["ts"]))
    assert rows(ratings_db) == [(SLACK_SENDER, 1, " ".join(ANSWER.split()), "slack")]


@pytest.mark.parametrize("case", ["someone else", "heart", "unknown ts", "a file", "no item"])
def test_other_slack_reactions_are_ignored(fake_slack, ratings_db, case):
    app = make_slack(fake_slack, RecordingBot(lambda m: [{"text": ANSWER}], keep=True))
    deliver(app, slack_dm_event(USER, "hello", channel="D0DM"))
    [result] = fake_slack.results_of("chat.postMessage")
    user, name, ts, kind = USER, "+1", result["ts"], "message"
    if case == "someone else":
        user = "U0SOMEONE"
    elif case == "heart":
        name = "heart"
    elif case == "unknown ts":
        ts = "1.000099"
    elif case == "a file":
        kind = "file"
    event = slack_reaction(user, name, result["channel"], ts, item_type=kind)
    if case == "no item":
        del event["event"]["item"]
    assert deliver(app, event)[0] == 200
    assert rows(ratings_db) == []


def test_an_answer_deleted_from_the_conversation_can_no_longer_be_rated(fake_telegram, ratings_db):
    app, _ = answered(fake_telegram)
    [message_id] = sent_message_ids(fake_telegram)
    app.bot.tracker_store.store.clear()  # "forget me" deleted the conversation's events
    assert send(app, fake_telegram.reaction_update(CHAT, message_id, ["👎"]))[0] == 200
    assert rows(ratings_db) == []


def test_without_the_feedback_table_a_reaction_is_dropped_not_crashed_on(fake_telegram, tmp_path, monkeypatch,
                                                                        caplog):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")  # nobody migrated it
    monkeypatch.setattr(sent_answers, "_current", sent_answers.MemorySentAnswers())
    app, _ = answered(fake_telegram)
    [message_id] = sent_message_ids(fake_telegram)
    caplog.set_level("INFO")
    assert send(app, fake_telegram.reaction_update(CHAT, message_id, ["👎"]))[0] == 200
    # the webhook answers 200 whatever happens: the log tells a handled refusal from a crash
    assert "A patient's rating could not be stored" in caplog.text
    assert "could not be handled" not in caplog.text


def test_memory_keeps_the_newest_answers_only():
    memory = sent_answers.MemorySentAnswers(size=3)
    for i in range(5):
        memory.remember(f"telegram:1:{i}", "telegram:1", f"answer {i}")
    assert [memory.recall(f"telegram:1:{i}") for i in (0, 1)] == [None, None]
    assert memory.recall("telegram:1:4") == ("telegram:1", sent_answers.digest("answer 4"))


def test_redis_shares_sent_answers_between_replicas_with_an_expiry():
    one, other = sent_answers.RedisSentAnswers("127.0.0.1", 6379, 14), sent_answers.RedisSentAnswers(
        "127.0.0.1", 6379, 14)
    key = "slack:D0DM:1700000000.000001"
    one.remember(key, "slack:T1:U1", "Thanks, Maria Lopez: we will call you on 07700 900123.")
    assert other.recall(key) == ("slack:T1:U1", sent_answers.digest("Thanks, Maria Lopez: we will call you on 07700 900123."))
    raw = other.client.get(f"calcified:sent:{key}").decode()
    assert "Maria" not in raw and "07700" not in raw  # Redis holds no patient text, only a digest
    ttl = other.client.ttl(f"calcified:sent:{key}")
    assert 0 < ttl <= sent_answers.TTL_SECONDS
    other.client.set(f"calcified:sent:{key}", b"\xff not json")
    assert other.recall(key) is None
    other.client.delete(f"calcified:sent:{key}")


def test_redis_down_loses_only_the_rating():
    away = sent_answers.RedisSentAnswers("127.0.0.1", 1, 0)  # nothing listens on port 1
    away.remember("telegram:1:1", "telegram:1", "An answer")  # logged, not raised
    assert away.recall("telegram:1:1") is None


@pytest.mark.parametrize("value,rating", [([{"type": "emoji", "emoji": "👍"}], 1),
                                          ([{"type": "custom_emoji", "custom_emoji_id": "1"}], None),
                                          ("👍", None), ([None, 3, "x"], None)])
def test_telegram_rating_reads_only_thumbs(value, rating):
    assert reactions.telegram_rating(value) == rating


def asyncio_run(coroutine):
    import asyncio

    return asyncio.run(coroutine)

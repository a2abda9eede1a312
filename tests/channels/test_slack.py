"""The Slack connector against a fake Web API on loopback, with signed Events API payloads."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from channels.slack import CHOOSE_HINT, ERROR_REPLY, PRIVACY_REPLY, SlackInput
from tests.channels.conftest import ChannelApp, RecordingBot
from tests.channels.fakes import FakeSlack, slack_click, slack_dm_event, slack_headers

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
WEBHOOK = "/webhooks/slack/webhook"
USER = "U0PATIENT"
SENDER = f"slack:{FakeSlack.TEAM}:{USER}"
SIX = [{"title": f"Type {i}", "payload": f'/ask_followup{{"lesion_type":"type_{i}"}}'} for i in range(1, 7)]
THREE = SIX[:3]


def make(fake, bot=None) -> ChannelApp:
    return ChannelApp(SlackInput(fake.token, SECRET, fake.url), bot or RecordingBot())


def deliver(app, payload, secret=SECRET, timestamp=None, extra_headers=None, raw=None):
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = slack_headers(secret, body, timestamp)
    headers.update(extra_headers or {})
    return app.post(WEBHOOK, body, headers)


def posts(fake):
    return fake.calls_of("chat.postMessage")


def test_url_verification_challenge_is_echoed_only_when_signed(fake_slack):
    app = make(fake_slack)
    challenge = {"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                 "type": "url_verification"}
    status, text = deliver(app, challenge)
    assert (status, json.loads(text)) == (200, {"challenge": challenge["challenge"]})
    assert deliver(app, challenge, secret="not-the-secret")[0] == 403


@pytest.mark.parametrize("case", ["no headers", "no signature", "no timestamp", "bad signature",
                                  "other body", "stale", "future", "garbage timestamp", "unicode digits",
                                  "non-ascii signature"])
def test_unsigned_or_stale_requests_are_rejected(fake_slack, case):
    app = make(fake_slack)
    body = json.dumps(slack_dm_event(USER, "hello")).encode()
    headers = slack_headers(SECRET, body)
    if case == "no headers":
        headers = {"Content-Type": "application/json"}
    elif case == "no signature":
        del headers["X-Slack-Signature"]
    elif case == "no timestamp":
        del headers["X-Slack-Request-Timestamp"]
    elif case == "bad signature":
        headers["X-Slack-Signature"] = "v0=" + "0" * 64
    elif case == "other body":
        body = body.replace(b"hello", b"HELLO")
    elif case == "stale":
        headers = slack_headers(SECRET, body, timestamp=int(time.time()) - 330)
    elif case == "future":
        headers = slack_headers(SECRET, body, timestamp=int(time.time()) + 330)
    elif case == "garbage timestamp":
        headers["X-Slack-Request-Timestamp"] = "12ab"
    elif case == "unicode digits":
        headers["X-Slack-Request-Timestamp"] = "".join(chr(0xFF10 + int(d)) for d in str(int(time.time()))).encode()
    elif case == "non-ascii signature":
        headers["X-Slack-Signature"] = ("v0=é" + "0" * 63).encode()
    assert app.post(WEBHOOK, body, headers)[0] == 403
    assert app.bot.messages == [] and posts(fake_slack) == []


def test_a_recent_timestamp_within_five_minutes_is_accepted(fake_slack):
    app = make(fake_slack)
    assert deliver(app, slack_dm_event(USER, "hello"), timestamp=int(time.time()) - 280)[0] == 200
    assert app.bot.texts == ["hello"]


def test_direct_message_reaches_the_bot_and_buttons_become_blocks(fake_slack):
    bot = RecordingBot(lambda m: [{"text": "Which **type**?", "buttons": THREE}])
    app = make(fake_slack, bot)
    status, _ = deliver(app, slack_dm_event(USER, "what types are there?", channel="D0DM"))
    assert status == 200
    [message] = bot.messages
    assert (message.text, message.sender_id, message.input_channel) == ("what types are there?", SENDER, "slack")
    [post] = posts(fake_slack)
    assert post["channel"] == "D0DM" and post["text"] == "Which *type*?"
    section, actions = post["blocks"]
    assert section["text"] == {"type": "mrkdwn", "text": "Which *type*?"}
    assert [(e["text"]["text"], e["value"]) for e in actions["elements"]] == [
        (b["title"], b["payload"]) for b in THREE]


def test_retries_and_duplicate_deliveries_never_produce_a_second_reply(fake_slack):
    app = make(fake_slack)
    event = slack_dm_event(USER, "hello")
    assert deliver(app, event)[0] == 200
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert deliver(app, event, extra_headers=retry)[0] == 200
    assert deliver(app, event, extra_headers={"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_error"})[0] == 200
    assert app.bot.texts == ["hello"]
    assert [p["text"] for p in posts(fake_slack)] == ["You said: hello"]
    deliver(app, slack_dm_event(USER, "hello"))  # same text, new event: a new message
    assert app.bot.texts == ["hello", "hello"]


def test_more_than_five_buttons_become_a_numbered_list_and_numbers_pick_them(fake_slack):
    bot = RecordingBot(lambda m: [{"text": "Choose a type:", "buttons": SIX}] if m.text == "types" else [])
    app = make(fake_slack, bot)
    deliver(app, slack_dm_event(USER, "types"))
    [post] = posts(fake_slack)
    assert "blocks" not in post
    assert post["text"] == ("Choose a type:\n\n" + "\n".join(f"{i}. Type {i}" for i in range(1, 7))
                            + f"\n\n{CHOOSE_HINT}")
    deliver(app, slack_dm_event(USER, " 2. "))
    assert bot.texts[-1] == SIX[1]["payload"]
    deliver(app, slack_dm_event(USER, "3"))  # the list was used up: a number is just text now
    assert bot.texts[-1] == "3"


def test_out_of_range_numbers_and_other_users_numbers_stay_text(fake_slack):
    bot = RecordingBot(lambda m: [{"text": "Choose:", "buttons": SIX}] if m.text == "types" else [])
    app = make(fake_slack, bot)
    deliver(app, slack_dm_event(USER, "types"))
    deliver(app, slack_dm_event("U0OTHER", "1"))
    deliver(app, slack_dm_event(USER, "7"))
    deliver(app, slack_dm_event(USER, "0"))
    assert bot.texts[1:] == ["1", "7", "0"]
    deliver(app, slack_dm_event(USER, "6"))
    assert bot.texts[-1] == SIX[5]["payload"]


def test_a_new_bot_message_without_a_list_cancels_the_numbers(fake_slack):
    bot = RecordingBot(lambda m: [{"text": "Choose:", "buttons": SIX}] if m.text == "types" else [{"text": "ok"}])
    app = make(fake_slack, bot)
    deliver(app, slack_dm_event(USER, "types"))
    deliver(app, slack_dm_event(USER, "what is it?"))
    deliver(app, slack_dm_event(USER, "1"))
    assert bot.texts == ["types", "what is it?", "1"]


def test_button_clicks_send_the_payload_once(fake_slack):
    app = make(fake_slack)
    body = slack_click(USER, THREE[0]["payload"], trigger_id="111.222.abc")
    headers = slack_headers(SECRET, body, content_type="application/x-www-form-urlencoded")
    assert app.post(WEBHOOK, body, headers)[0] == 200
    assert app.post(WEBHOOK, body, slack_headers(SECRET, body, content_type="application/x-www-form-urlencoded"))[0] == 200
    assert app.bot.texts == [THREE[0]["payload"]]
    assert app.bot.messages[0].sender_id == SENDER
    assert posts(fake_slack)[0]["channel"] == "D0PATIENT"


@pytest.mark.parametrize("change", [
    {"bot_id": "B0BOT", "user": FakeSlack.BOT_USER},
    {"bot_id": "B0OTHER"},
    {"subtype": "message_changed"},
    {"subtype": "channel_join"},
    {"channel_type": "channel"},
    {"text": ""},
    {"text": "<@UBOT0001>"},
    {"user": None},
    {"type": "reaction_added"},
])
def test_bot_messages_edits_and_other_events_are_ignored(fake_slack, change):
    app = make(fake_slack)
    event = slack_dm_event(USER, "hello")
    event["event"].update(change)
    assert deliver(app, event)[0] == 200
    assert app.bot.messages == [] and posts(fake_slack) == []


def test_the_bots_own_user_is_learned_and_ignored(fake_slack):
    app = make(fake_slack)
    asyncio.run(_learn(app.channel))
    assert app.channel.bot_user_id == FakeSlack.BOT_USER
    deliver(app, slack_dm_event(FakeSlack.BOT_USER, "I am the bot"))
    assert app.bot.messages == []


async def _learn(channel: SlackInput) -> None:
    try:
        await channel.learn_bot_user()
    finally:
        await channel.api.close()


def test_a_mention_in_a_channel_gets_a_privacy_note_in_a_thread(fake_slack):
    app = make(fake_slack)
    event = slack_dm_event(USER, "<@UBOT0001> I have a lump in my breast", channel="C0GENERAL")
    event["event"].update(type="app_mention", ts="1700000000.000100")
    event["event"].pop("channel_type")
    deliver(app, event)
    assert app.bot.messages == []
    [post] = posts(fake_slack)
    assert (post["channel"], post["text"], post["thread_ts"]) == ("C0GENERAL", PRIVACY_REPLY, "1700000000.000100")


def test_slack_formatting_is_unwrapped_for_the_bot_and_escaped_for_slack(fake_slack):
    bot = RecordingBot(lambda m: [{"text": "<!channel> & <img src=x> **bold** [the guide](https://example.org/a?b=1)"}])
    app = make(fake_slack, bot)
    deliver(app, slack_dm_event(USER, "see <https://example.org|example.org> &amp; &lt;b&gt; <@UBOT0001>"))
    assert bot.texts == ["see example.org & <b>"]
    assert posts(fake_slack)[0]["text"] == (
        "&lt;!channel&gt; &amp; &lt;img src=x&gt; *bold* <https://example.org/a?b=1|the guide>")


@pytest.mark.parametrize("raw, content_type, status", [
    (b"{not json", "application/json", 400),
    (b"[1]", "application/json", 400),
    (b"\xff\xfe", "application/json", 400),
    (b"payload=%7Bbroken", "application/x-www-form-urlencoded", 400),
    (b'{"type": "event_callback"}', "application/json", 400),
    (b"hello", "text/plain", 415),
    (b"{" + b" " * 600_000 + b"}", "application/json", 413),
])
def test_malformed_signed_bodies_get_a_clear_error(fake_slack, raw, content_type, status):
    app = make(fake_slack)
    assert app.post(WEBHOOK, raw, slack_headers(SECRET, raw, content_type=content_type))[0] == status
    assert app.bot.messages == []


def test_a_failing_assistant_gets_an_apology(fake_slack):
    async def broken(message):
        raise RuntimeError("model exploded")

    app = ChannelApp(SlackInput(fake_slack.token, SECRET, fake_slack.url), broken)
    deliver(app, slack_dm_event(USER, "hello"))
    assert [p["text"] for p in posts(fake_slack)] == [ERROR_REPLY]


def test_rate_limited_posts_are_retried_after_the_wait(fake_slack):
    fake_slack.rate_limited["chat.postMessage"] = 1
    app = make(fake_slack)
    deliver(app, slack_dm_event(USER, "hello"))
    assert [p["text"] for p in posts(fake_slack)] == ["You said: hello", "You said: hello"]  # 429, then sent


def test_long_answers_fit_slacks_block_limits(fake_slack):
    long_text = ("The guide explains this in detail. " * 200).strip()
    app = make(fake_slack, RecordingBot(lambda m: [{"text": long_text, "buttons": THREE}]))
    deliver(app, slack_dm_event(USER, "everything"))
    calls = posts(fake_slack)
    assert len(calls) == 3 and "blocks" in calls[-1]  # the fake answers invalid_blocks past 3000 characters
    assert " ".join(c["text"] for c in calls) == long_text


@pytest.mark.parametrize("credentials", [None, {}, {"slack_token": "xoxb"}, {"slack_signing_secret": "s"}])
def test_incomplete_credentials_are_a_clear_error(credentials):
    with pytest.raises(ValueError, match="slack channel needs"):
        SlackInput.from_credentials(credentials)


def test_the_five_minute_window_to_the_second():
    from channels.slack import signature, verification_problem

    now, body = 1_700_000_000, b'{"type":"event_callback"}'

    def headers(ts):
        return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": signature(SECRET, str(ts), body)}

    assert verification_problem(SECRET, headers(now - 300), body, now) is None
    assert verification_problem(SECRET, headers(now + 300), body, now) is None
    assert verification_problem(SECRET, headers(now - 301), body, now) == "timestamp outside the five-minute window"
    assert verification_problem(SECRET, headers(now + 301), body, now) == "timestamp outside the five-minute window"
    assert verification_problem("other-secret", headers(now), body, now) == "bad signature"

"""Property-based fuzzing of the chat channels' entry points (Hypothesis).

Telegram and Slack get properly authenticated (secret token / signed) payloads with
arbitrary structure and arbitrary Unicode; the widget's socket.io server gets arbitrary
events. Whatever arrives: never a server error, and whatever reaches the assistant is
storable text within the cap, from a valid sender. Bounded for CI (a few seconds each).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, List

from hypothesis import HealthCheck, given, settings, strategies as st

from channels.guard import MAX_MESSAGE_CHARS, check_sender
from channels.slack import SlackInput
from channels.socketio import SocketIOInput
from channels.telegram import TelegramInput
from storage.ids import WIDGET_SESSION_RE
from tests.channels.conftest import ChannelApp, RecordingBot
from tests.channels.fakes import slack_headers
from tests.channels.test_socketio import client_for, settle, with_server
from tests.channels.stack import close_socket

WILD_TEXT = st.text(st.characters(codec=None), max_size=60) | st.builds(lambda c, n: c * n, st.sampled_from(
    ["a", "\udc00", "\x00", "é", "🙂", "<b>", "&amp;"]), st.integers(1, 3000))
SCALARS = st.none() | st.booleans() | st.integers(-2**63, 2**63) | st.floats(allow_nan=False) | WILD_TEXT
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)
FUZZ = settings(max_examples=80, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def assert_storable(bot: RecordingBot) -> None:
    for message in bot.messages:
        message.text.encode("utf-8")
        assert len(message.text) <= MAX_MESSAGE_CHARS
        assert check_sender(message.sender_id) == message.sender_id


def telegram_update(chat_type: Any, chat_id: Any, text: Any, extra: Any) -> dict:
    message = {"message_id": 1, "date": 1, "chat": {"id": chat_id, "type": chat_type}, "text": text}
    return {"update_id": 1, "message": message, **(extra if isinstance(extra, dict) else {})}


@FUZZ
@given(st.sampled_from(["private", "group", 5, None]), st.one_of(st.integers(-2**63, 2**63), VALUES),
       st.one_of(WILD_TEXT, VALUES), VALUES)
def test_fuzz_telegram_updates(fake_telegram, chat_type, chat_id, text, extra):
    bot = RecordingBot()
    channel = TelegramInput(fake_telegram.token, "https://bot.example.org/webhooks/telegram/webhook", "s3cret",
                            fake_telegram.url)
    app = ChannelApp(channel, bot)
    body = json.dumps(telegram_update(chat_type, chat_id, text, extra)).encode()
    status, _ = app.post("/webhooks/telegram/webhook", body, {"Content-Type": "application/json",
                                                              "X-Telegram-Bot-Api-Secret-Token": "s3cret"})
    assert status in (200, 400, 413)
    assert_storable(bot)


@FUZZ
@given(st.one_of(WILD_TEXT, VALUES), st.one_of(WILD_TEXT, VALUES), st.one_of(WILD_TEXT, VALUES), VALUES)
def test_fuzz_signed_slack_events(fake_slack, user, team, text, extra):
    bot = RecordingBot()
    app = ChannelApp(SlackInput(fake_slack.token, "signing-secret", fake_slack.url), bot)
    payload = {"type": "event_callback", "team_id": team, "event_id": "Ev1",
               "event": {"type": "message", "channel_type": "im", "channel": "D1", "user": user, "text": text,
                         **(extra if isinstance(extra, dict) else {})}}
    body = json.dumps(payload).encode()
    status, _ = app.post("/webhooks/slack/webhook", body, slack_headers("signing-secret", body))
    assert status in (200, 400, 413)
    assert_storable(bot)


EVENTS = st.lists(st.tuples(st.sampled_from(["session_request", "user_uttered", "disconnect_request", "x"]),
                            VALUES), max_size=6)


@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(EVENTS)
def test_fuzz_socketio_events(events):
    bot = RecordingBot()

    async def scenario(url: str) -> List[Any]:
        inbox: List[Any] = []
        client = await client_for(url, inbox, [])
        for name, data in events:
            await client.emit(name, data)
        await client.emit("session_request", {"token": "t" * 40})  # the server still serves this socket
        await settle(lambda: any(isinstance(m, dict) and "confirmed" in m for m in inbox), timeout=5)
        await close_socket(client)
        return inbox

    inbox = asyncio.run(with_server(bot, scenario))
    assert any(isinstance(m, dict) and "confirmed" in m for m in inbox)
    assert_storable(bot)
    assert all(WIDGET_SESSION_RE.fullmatch(m.sender_id) for m in bot.messages)


REACTIONS = st.lists(st.one_of(VALUES, st.fixed_dictionaries({"type": st.sampled_from(["emoji", "custom_emoji"]),
                                                              "emoji": st.sampled_from(["👍", "👎", "❤", ""]) | VALUES})),
                     max_size=3) | VALUES


@FUZZ
@given(st.one_of(st.integers(-2**63, 2**63), VALUES), st.one_of(st.integers(-5, 5), VALUES), REACTIONS,
       st.sampled_from(["private", "group", None]))
def test_fuzz_telegram_reactions_never_raise(fake_telegram, tmp_path_factory, chat_id, message_id, reaction,
                                             chat_type):
    """Called directly: the webhook would turn an exception into a logged 200 and hide it."""
    from channels import sent_answers

    channel = TelegramInput(fake_telegram.token, "https://bot.example.org/webhooks/telegram/webhook", "s3cret",
                            fake_telegram.url)
    channel.ratings._store = _NoWrites()
    if isinstance(chat_id, int) and isinstance(message_id, int):
        sent_answers.current().remember(sent_answers.key("telegram", chat_id, message_id), f"telegram:{chat_id}", "An answer")
    update = {"update_id": 1, "message_reaction": {"chat": {"id": chat_id, "type": chat_type},
                                                   "message_id": message_id, "new_reaction": reaction}}

    async def run():
        await channel.handle_update(update, RecordingBot())
        await channel.api.close()

    asyncio.run(run())


@FUZZ
@given(st.one_of(WILD_TEXT, VALUES), st.one_of(WILD_TEXT, VALUES), st.one_of(WILD_TEXT, VALUES),
       st.one_of(WILD_TEXT, VALUES))
def test_fuzz_slack_reactions_never_raise(fake_slack, user, reaction, item_channel, ts):
    channel = SlackInput(fake_slack.token, "signing-secret", fake_slack.url)
    channel.ratings._store = _NoWrites()
    payload = {"type": "event_callback", "team_id": "T1", "event_id": f"Ev{id(user)}",
               "event": {"type": "reaction_added", "user": user, "reaction": reaction,
                         "item": {"type": "message", "channel": item_channel, "ts": ts}}}

    async def run():
        answer = channel._on_event(payload, RecordingBot())
        assert answer.status == 200
        results = await asyncio.gather(*channel._tasks, return_exceptions=True)
        assert not [r for r in results if isinstance(r, BaseException)]
        await channel.api.close()

    asyncio.run(run())


class _NoWrites:
    """The rating's destination: records what a reaction would store (the database path is tested elsewhere)."""

    def add(self, conversation_id, rating, answer, channel):
        assert rating in (1, -1) and isinstance(answer, str)

    def close(self):
        pass

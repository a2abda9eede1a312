"""The widget's socket.io channel on a real Sanic server, with python-socketio as the client."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any, Dict, List

import socketio
from sanic import Sanic

from channels.guard import CUT_NOTICE
from channels.socketio import SocketIOInput
from storage.ids import widget_session_id
from tests.channels.conftest import RecordingBot
from tests.channels.stack import close_socket
from tests.support import free_port

_apps = itertools.count()
TOKEN = "Browser-secret_token-0123456789abcdef"
SESSION = widget_session_id(TOKEN)


async def with_server(bot: RecordingBot, scenario) -> Any:
    """Serve the channel on loopback (as `rasa run` does), run ``scenario(url)``, stop."""
    channel = SocketIOInput(session_persistence=True)
    app = Sanic(f"socketio_test_{next(_apps)}")
    app.blueprint(channel.blueprint(bot), url_prefix="/webhooks/socketio")
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        return await scenario(f"http://127.0.0.1:{port}")
    finally:
        await server.before_stop()
        await server.close()
        await server.after_stop()


async def client_for(url: str, inbox: List[Any], errors: List[Any]) -> socketio.AsyncClient:
    client = socketio.AsyncClient(reconnection=False)
    client.on("bot_uttered", inbox.append)
    client.on("session_confirm", lambda data: inbox.append({"confirmed": data}))
    client.on("session_error", errors.append)
    # Long-polling: python-engineio's websocket client needs a newer aiohttp than Rasa's.
    await client.connect(url, socketio_path="/socket.io", transports=["polling"])
    return client


async def settle(condition, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)


async def one_message(url: str) -> List[Dict[str, Any]]:
    """A browser opens its session, says "types" and collects what comes back."""
    inbox: List[Any] = []
    client = await client_for(url, inbox, [])
    await client.emit("session_request", {"token": TOKEN})
    await settle(lambda: inbox)
    await client.emit("user_uttered", {"message": "types"})
    await settle(lambda: len(inbox) >= 2)
    await close_socket(client)
    return inbox


def test_answers_reach_the_sessions_room():
    """With session_persistence, replies go to the session's room: the socket must have joined it."""
    bot = RecordingBot(lambda m: [{"text": "Which type?", "buttons": [{"title": "Brain", "payload": "/b"}]}])

    inbox = asyncio.run(with_server(bot, one_message))
    assert inbox == [{"confirmed": SESSION},
                     {"text": "Which type?", "quick_replies": [{"content_type": "text", "title": "Brain",
                                                                "payload": "/b"}]}]
    assert [(m.text, m.sender_id, m.input_channel) for m in bot.messages] == [("types", SESSION, "socketio")]


def test_a_turn_that_fails_is_never_silence():
    def explode(_message):
        raise RuntimeError("the conversation store is unreachable")

    inbox = asyncio.run(with_server(RecordingBot(explode), one_message))
    assert inbox == [{"confirmed": SESSION},
                     {"text": "The assistant is briefly unavailable. Please try again in a minute."}]


def test_foreign_or_malformed_session_requests_are_refused():
    bot = RecordingBot()

    async def scenario(url: str):
        inbox: List[Any] = []
        errors: List[Any] = []
        client = await client_for(url, inbox, errors)
        bad_requests = [{"session_id": "telegram:12345"}, {"session_id": SESSION}, {"session_id": "ab" * 32},
                        {"token": "short"}, {"token": 42}, {"token": TOKEN + "\n"}, {"token": "x" * 129},
                        {"session_id": SESSION, "token": None}]
        for bad in bad_requests:
            await client.emit("session_request", bad)
        await settle(lambda: len(errors) >= len(bad_requests))
        # Messages before a session, or naming another session, are dropped.
        await client.emit("user_uttered", {"message": "hello", "session_id": "telegram:12345"})
        await client.emit("session_request", {"token": TOKEN})
        await settle(lambda: inbox)
        await client.emit("user_uttered", {"message": "hello", "session_id": "cd" * 32})
        for broken in [None, "text", {"message": 5}, {"message": ["x"]}, {"session_id": SESSION}]:
            await client.emit("user_uttered", broken)
        await client.emit("user_uttered", {"message": "x" * 5000 + "\udc00", "metadata": "{bad"})
        await settle(lambda: len(inbox) >= 3)
        await close_socket(client)
        return inbox, errors, len(bad_requests)

    inbox, errors, count = asyncio.run(with_server(bot, scenario))
    assert len(errors) == count and all("token" in e["error"] for e in errors)
    assert [(len(m.text), m.sender_id, m.metadata) for m in bot.messages] == [(2000, SESSION, {})]
    assert inbox[0] == {"confirmed": SESSION}
    assert inbox[-1] == {"text": CUT_NOTICE}  # the patient is told the message was cut


def test_knowing_a_conversation_id_is_not_enough_to_join_it():
    """Finding 5: a second client naming the victim's id got the victim's replies and could write."""
    bot = RecordingBot(lambda m: [{"text": f"Summary for {m.sender_id[:6]}: Anna Stone, anna@example.org"}])

    async def scenario(url: str):
        victim_inbox: List[Any] = []
        victim = await client_for(url, victim_inbox, [])
        await victim.emit("session_request", {"token": TOKEN})
        await settle(lambda: victim_inbox)
        intruder_inbox: List[Any] = []
        intruder_errors: List[Any] = []
        intruder = await client_for(url, intruder_inbox, intruder_errors)
        await intruder.emit("session_request", {"session_id": SESSION})  # the id the console shows
        await settle(lambda: intruder_errors)
        await intruder.emit("user_uttered", {"message": "cancel", "session_id": SESSION})
        await victim.emit("user_uttered", {"message": "yes, send it"})
        await settle(lambda: len(victim_inbox) >= 2)
        await asyncio.sleep(0.3)
        await close_socket(intruder)
        await close_socket(victim)
        return victim_inbox, intruder_inbox, intruder_errors

    victim_inbox, intruder_inbox, intruder_errors = asyncio.run(with_server(bot, scenario))
    assert intruder_errors and intruder_inbox == []
    assert bot.texts == ["yes, send it"]  # the intruder's "cancel" never reached the conversation
    assert "Anna Stone" in victim_inbox[-1]["text"]


def test_a_session_request_without_a_token_gets_a_fresh_unguessable_one():
    async def scenario(url: str):
        inbox: List[Any] = []
        client = await client_for(url, inbox, [])
        await client.emit("session_request", {})
        await settle(lambda: inbox)
        await close_socket(client)
        return inbox

    [confirmed] = asyncio.run(with_server(RecordingBot(), scenario))
    assert len(confirmed["confirmed"]) == 64 and int(confirmed["confirmed"], 16) >= 0

"""The same conversation on all four channels, through the real assistant.

REST, the website widget (Rasa's socket.io channel, driven by python-socketio as the
browser's socket.io-client would), Telegram (fake Bot API on loopback delivering real
update JSON to the webhook) and Slack (signed Events API payloads; fake Web API). Each
channel must show the patient what REST returns for the same messages.
"""

from __future__ import annotations

import asyncio
import html
import json
import time
from typing import Any, Dict, List, Tuple

import pytest
import requests
import socketio

from tests.channels.fakes import slack_dm_event, slack_headers, telegram_visible_text
from tests.channels.stack import (SLACK_SECRET, close_socket, dumps, new_token, rest_turn, shared_stack, wait_until,
                                  widget_session)

CONVERSATION = ["what types are there?", "what about the brain kind?", "can I book an appointment"]
Turn = Tuple[List[str], List[str]]  # (texts the patient sees, button titles)


@pytest.fixture(scope="module")
def channels(request, model_path):
    return shared_stack(request.config, model_path)


@pytest.fixture(scope="module")
def rest_reference(channels) -> List[Turn]:
    sender = f"rest-{new_token('rest')}"
    turns = []
    for text in CONVERSATION:
        messages = rest_turn(channels.rasa_url, sender, text)
        turns.append(([m["text"] for m in messages if m.get("text")],
                      [b["title"] for m in messages for b in m.get("buttons") or []]))
    return turns


def test_rest_answers_from_the_guide(rest_reference):
    (types, type_buttons), (brain, _), (booking, _) = rest_reference
    assert any("several types of calcified lesions" in t for t in types), types
    assert "Brain Calcifications" in type_buttons
    assert any("Calcifications can occur in the brain" in t for t in brain), brain
    assert any("appointment" in t.lower() for t in booking), booking


def assert_same(channel: str, turns: List[Turn], reference: List[Turn]) -> None:
    assert len(turns) == len(reference)
    for number, ((texts, buttons), (ref_texts, ref_buttons)) in enumerate(zip(turns, reference), 1):
        seen = "\n\n".join(texts)
        for ref in ref_texts:
            for paragraph in ref.split("\n\n"):
                assert paragraph.strip() in seen, f"{channel}, turn {number}: {paragraph!r} missing in {seen!r}"
        for title in ref_buttons:
            assert title in buttons or f". {title}" in seen, f"{channel}, turn {number}: button {title!r} missing"


# ---- website widget (socket.io) ----------------------------------------------------------

async def socket_conversation(rasa_url: str, token: str, messages: List[str],
                              expected_counts: List[int]) -> List[List[Dict[str, Any]]]:
    client = socketio.AsyncClient(reconnection=False)
    inbox: asyncio.Queue = asyncio.Queue()
    confirmed = asyncio.Event()
    client.on("session_confirm", lambda data: confirmed.set())
    client.on("bot_uttered", lambda data: inbox.put_nowait(data))
    # Long-polling: python-engineio's websocket client needs aiohttp >= 3.10, Rasa pins 3.9.
    # The browser test drives the widget over websocket.
    await client.connect(rasa_url, socketio_path="/socket.io", transports=["polling"])
    try:
        await client.emit("session_request", {"token": token})
        await asyncio.wait_for(confirmed.wait(), 30)
        turns = []
        for message, count in zip(messages, expected_counts):
            await client.emit("user_uttered", {"message": message})
            turns.append([await asyncio.wait_for(inbox.get(), 120) for _ in range(count)])
            await asyncio.sleep(0.5)
            assert inbox.empty(), f"more answers than over REST: {inbox.get_nowait()}"
        return turns
    finally:
        await close_socket(client)


def socket_counts(reference: List[Turn]) -> List[int]:
    # Rasa's socket.io channel sends each paragraph of a text as its own message.
    return [sum(len(t.strip().split("\n\n")) for t in texts) for texts, _ in reference]


def test_widget_channel(channels, rest_reference):
    token = new_token("widget")
    session_id = widget_session(channels.web_url, token)["session_id"]
    raw = asyncio.run(socket_conversation(channels.rasa_url, token, CONVERSATION, socket_counts(rest_reference)))
    turns = [([m.get("text", "") for m in msgs], [q["title"] for m in msgs for q in m.get("quick_replies") or []])
             for msgs in raw]
    assert_same("widget", turns, rest_reference)

    # The conversation comes back from the server for this token, and for no other.
    history = widget_session(channels.web_url, token)
    assert history["session_id"] == session_id
    users = [m["text"] for m in history["messages"] if m["sender"] == "user"]
    assert users == CONVERSATION
    bot_texts = "\n".join(m["text"] for m in history["messages"] if m["sender"] == "bot")
    assert "Calcifications can occur in the brain" in bot_texts
    assert widget_session(channels.web_url, new_token("stranger"))["messages"] == []


def test_widget_button_click_is_shown_by_its_title_in_the_history(channels, rest_reference):
    token = new_token("widget-click")
    first = socket_counts(rest_reference)[:1]
    [[*_, answer]] = asyncio.run(socket_conversation(channels.rasa_url, token, CONVERSATION[:1], first))
    brain = next(q for q in answer["quick_replies"] if q["title"] == "Brain Calcifications")
    [[reply, *_]] = asyncio.run(socket_conversation(channels.rasa_url, token, [brain["payload"]], [1]))
    assert "Calcifications can occur in the brain" in reply["text"]
    history = widget_session(channels.web_url, token)["messages"]
    assert [m["text"] for m in history if m["sender"] == "user"] == ["what types are there?", "Brain Calcifications"]
    assert any(b["payload"] == brain["payload"] for m in history for b in m.get("buttons", []))


# ---- Telegram -------------------------------------------------------------------------------

def telegram_turn(channels, chat_id: int, update: Dict[str, Any]) -> Tuple[Turn, List[Dict[str, Any]]]:
    before = len(channels.telegram.calls_of("sendMessage"))
    response = channels.telegram.deliver(update)
    assert response.status_code == 200, response.text
    calls = [c for c in channels.telegram.calls_of("sendMessage")[before:] if c["chat_id"] == str(chat_id)]
    texts = [telegram_visible_text(c["text"], c.get("parse_mode"))[0] for c in calls]
    buttons = [b["text"] for c in calls for row in (c.get("reply_markup") or {}).get("inline_keyboard", [])
               for b in row]
    return (texts, buttons), calls


def test_telegram_channel(channels, rest_reference):
    fake = channels.telegram
    assert wait_until(lambda: fake.webhook.get("url"), timeout=30), "setWebhook was never called"
    assert fake.webhook["secret_token"] and fake.webhook["url"].endswith("/webhooks/telegram/webhook")
    chat_id = 9_000_000 + int(time.time()) % 100_000
    turns = [telegram_turn(channels, chat_id, fake.text_update(chat_id, text))[0] for text in CONVERSATION]
    assert_same("telegram", turns, rest_reference)


def test_telegram_inline_button_click(channels):
    fake = channels.telegram
    assert wait_until(lambda: fake.webhook.get("url"), timeout=30)
    chat_id = 8_000_000 + int(time.time()) % 100_000
    _, calls = telegram_turn(channels, chat_id, fake.text_update(chat_id, "what types are there?"))
    keyboard = calls[-1]["reply_markup"]["inline_keyboard"]
    data = next(row[0]["callback_data"] for row in keyboard if row[0]["text"] == "Brain Calcifications")
    sent = {"message_id": 77, "date": int(time.time()), "chat": {"id": chat_id, "type": "private"},
            "text": "types", "reply_markup": calls[-1]["reply_markup"]}
    (texts, _), _ = telegram_turn(channels, chat_id, fake.click_update(chat_id, sent, data))
    assert any("Calcifications can occur in the brain" in t for t in texts), texts
    assert fake.calls_of("answerCallbackQuery")


def test_telegram_webhook_rejects_requests_without_the_secret(channels):
    fake = channels.telegram
    assert wait_until(lambda: fake.webhook.get("url"), timeout=30)
    update = fake.text_update(1234, "hello")
    assert fake.deliver(update, secret=None).status_code == 403
    assert fake.deliver(update, secret="guess").status_code == 403
    assert not [c for c in fake.calls_of("sendMessage") if c["chat_id"] == "1234"]


# ---- Slack ----------------------------------------------------------------------------------

def slack_post(channels, payload: Dict[str, Any]) -> requests.Response:
    body = json.dumps(payload).encode()
    return requests.post(f"{channels.rasa_url}/webhooks/slack/webhook", data=body,
                         headers=slack_headers(SLACK_SECRET, body), timeout=30)


def slack_turn(channels, user: str, dm: str, text: str, until: str) -> Turn:
    before = len(channels.slack.calls_of("chat.postMessage"))
    event = slack_dm_event(user, text, channel=dm)
    assert slack_post(channels, event).status_code == 200
    assert slack_post(channels, event).status_code == 200  # Slack's retry of the same event

    def arrived():
        calls = [c for c in channels.slack.calls_of("chat.postMessage")[before:] if c["channel"] == dm]
        return calls if any(until in html.unescape(c["text"]) for c in calls) else None

    calls = wait_until(arrived, timeout=120)
    assert calls, f"no Slack answer containing {until!r}: {dumps(channels.slack.calls_of('chat.postMessage')[before:])}"
    time.sleep(1.0)  # a duplicate answer to the retry would arrive by now
    calls = [c for c in channels.slack.calls_of("chat.postMessage")[before:] if c["channel"] == dm]
    texts = [html.unescape(c["text"]) for c in calls]
    buttons = [e["text"]["text"] for c in calls for b in c.get("blocks") or [] if b["type"] == "actions"
               for e in b["elements"]]
    return texts, buttons


def test_slack_channel(channels, rest_reference):
    user, dm = f"U{int(time.time())}", f"D{int(time.time())}"
    turns = [slack_turn(channels, user, dm, text, ref_texts[-1].split("\n\n")[-1][:40])
             for text, (ref_texts, _) in zip(CONVERSATION, rest_reference)]
    assert_same("slack", turns, rest_reference)
    # Six types are more than Slack's five buttons: a numbered list, each answered once.
    assert "1. Atherosclerotic Calcifications" in "\n".join(turns[0][0])
    assert sum(t.count("1. Atherosclerotic Calcifications") for t in turns[0][0]) == 1


def test_slack_numbered_choice_picks_the_button(channels):
    user, dm = f"U{int(time.time())}N", f"D{int(time.time())}N"
    texts, _ = slack_turn(channels, user, dm, "what types are there?", "Choose one of the 6 points")
    number = next(line.split(".")[0] for t in texts for line in t.splitlines() if "Brain Calcifications" in line)
    texts, _ = slack_turn(channels, user, dm, number, "Calcifications can occur in the brain")
    assert any("Calcifications can occur in the brain" in t for t in texts)


def test_slack_webhook_rejects_unsigned_and_stale_requests(channels):
    body = json.dumps(slack_dm_event("UATTACKER", "hello", channel="DATTACK")).encode()
    url = f"{channels.rasa_url}/webhooks/slack/webhook"
    assert requests.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=30).status_code == 403
    stale = slack_headers(SLACK_SECRET, body, timestamp=int(time.time()) - 600)
    assert requests.post(url, data=body, headers=stale, timeout=30).status_code == 403
    time.sleep(1)
    assert not [c for c in channels.slack.calls_of("chat.postMessage") if c["channel"] == "DATTACK"]


def test_emergency_advice_comes_first_with_the_number_as_plain_text_on_telegram_and_slack(channels):
    """The number is plain text in the message (phones offer to call it); nothing of the turn comes before it."""
    fake = channels.telegram
    assert wait_until(lambda: fake.webhook.get("url"), timeout=30)
    chat_id = 5_000_000 + int(time.time()) % 100_000
    (texts, _), _ = telegram_turn(channels, chat_id, fake.text_update(chat_id, "my dad has crushing chest pain"))
    assert texts and "medical emergency" in texts[0] and "call 112 now" in texts[0], texts

    user, dm = f"U{int(time.time())}E", f"D{int(time.time())}E"
    texts, _ = slack_turn(channels, user, dm, "my dad has crushing chest pain", "call 112 now")
    assert "medical emergency" in texts[0] and "call 112 now" in texts[0], texts

"""The Telegram connector against a fake Bot API on loopback: real update JSON in, real API calls out."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from channels.telegram import ERROR_REPLY, EXPIRED_BUTTON_REPLY, NOT_TEXT_REPLY, EDITED_REPLY, TelegramInput
from tests.channels.conftest import ChannelApp, RecordingBot

SECRET = "s3cret-Token_for-tests"
WEBHOOK = "/webhooks/telegram/webhook"
CHAT = 424242
LONG_PAYLOAD = '/ask_specialist{"lesion_type":"vascular_calcifications","location":"coronary arteries"}'
BUTTONS = [
    {"title": "Brain calcifications", "payload": '/ask_followup{"lesion_type":"brain_calcifications"}'},
    {"title": "Who treats vascular calcifications?", "payload": LONG_PAYLOAD},
]


def make(fake, bot=None, secret=SECRET) -> ChannelApp:
    channel = TelegramInput(fake.token, "https://bot.example.org/webhooks/telegram/webhook", secret, fake.url)
    return ChannelApp(channel, bot or RecordingBot())


def send(app: ChannelApp, update: Any, secret: str = SECRET, raw: bytes = None):
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return app.post(WEBHOOK, raw if raw is not None else json.dumps(update).encode(), headers)


def sent_texts(fake):
    return [call["text"] for call in fake.calls_of("sendMessage")]


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", SECRET + "x", SECRET[:-1]])
def test_requests_without_the_secret_token_are_rejected_with_403(fake_telegram, secret):
    app = make(fake_telegram)
    status, _ = send(app, fake_telegram.text_update(CHAT, "hello"), secret=secret)
    assert status == 403
    assert app.bot.messages == []
    assert fake_telegram.calls_of("sendMessage") == []


def test_text_message_reaches_the_bot_and_buttons_become_an_inline_keyboard(fake_telegram):
    bot = RecordingBot(lambda m: [{"text": "Pick one **type**:", "buttons": BUTTONS}])
    app = make(fake_telegram, bot)
    status, _ = send(app, fake_telegram.text_update(CHAT, "what types are there?"))
    assert status == 200
    [message] = bot.messages
    assert (message.text, message.sender_id, message.input_channel) == (
        "what types are there?", f"telegram:{CHAT}", "telegram")
    [call] = fake_telegram.calls_of("sendMessage")
    assert call["chat_id"] == str(CHAT) and call["parse_mode"] == "HTML"
    assert call["text"] == "Pick one <b>type</b>:"
    rows = call["reply_markup"]["inline_keyboard"]
    assert [row[0]["text"] for row in rows] == ["Brain calcifications", "Who treats vascular calcifications?"]
    assert rows[0][0]["callback_data"] == BUTTONS[0]["payload"]  # short payloads travel as they are
    assert len(rows[1][0]["callback_data"].encode()) <= 64  # the fake would have answered 400 otherwise
    assert fake_telegram.calls_of("sendChatAction")[0]["action"] == "typing"


def test_button_click_sends_the_payload_and_answers_the_callback_query(fake_telegram):
    bot = RecordingBot(lambda m: [{"text": "Choose:", "buttons": BUTTONS}] if not m.text.startswith("/") else [])
    app = make(fake_telegram, bot)
    send(app, fake_telegram.text_update(CHAT, "types"))
    [call] = fake_telegram.calls_of("sendMessage")
    sent = {"message_id": 1, "chat": {"id": CHAT, "type": "private"}, "text": "Choose:",
            "reply_markup": call["reply_markup"]}
    long_data = call["reply_markup"]["inline_keyboard"][1][0]["callback_data"]
    status, _ = send(app, fake_telegram.click_update(CHAT, sent, long_data))
    assert status == 200
    assert bot.texts == ["types", LONG_PAYLOAD]
    assert bot.messages[1].sender_id == f"telegram:{CHAT}"
    assert len(fake_telegram.calls_of("answerCallbackQuery")) == 1


def test_click_on_a_forgotten_long_payload_falls_back_to_the_button_title(fake_telegram):
    bot = RecordingBot(lambda m: [])
    app = make(fake_telegram, bot)
    sent = {"message_id": 1, "chat": {"id": CHAT, "type": "private"}, "text": "Choose:",
            "reply_markup": {"inline_keyboard": [[{"text": "Vascular calcifications", "callback_data": "~unknownid"}]]}}
    send(app, fake_telegram.click_update(CHAT, sent, "~unknownid"))
    assert bot.texts == ["Vascular calcifications"]
    sent["reply_markup"] = {"inline_keyboard": []}
    send(app, fake_telegram.click_update(CHAT, sent, "~otherid"))
    assert bot.texts == ["Vascular calcifications"]
    assert sent_texts(fake_telegram) == [EXPIRED_BUTTON_REPLY]


def test_hostile_html_from_the_bot_is_escaped_and_accepted_by_telegram(fake_telegram):
    hostile = "<img src=x onerror=alert(1)> & <b>not bold</b> [site](https://example.org/?a=1&b=\"2\")"
    app = make(fake_telegram, RecordingBot(lambda m: [{"text": hostile}]))
    send(app, fake_telegram.text_update(CHAT, "hi"))
    [call] = fake_telegram.calls_of("sendMessage")
    assert "<img" not in call["text"] and "&lt;img src=x onerror=alert(1)&gt;" in call["text"]
    assert '<a href="https://example.org/?a=1&amp;b=&quot;2&quot;">site</a>' in call["text"]
    # The fake parsed the HTML like Telegram; the patient sees the text as written.
    from tests.channels.fakes import telegram_visible_text
    assert telegram_visible_text(call["text"], "HTML") == (
        "<img src=x onerror=alert(1)> & <b>not bold</b> site", None)


@pytest.mark.parametrize("update, reply", [
    ({"message": {"message_id": 5, "chat": {"id": CHAT, "type": "private"}, "date": 1,
                  "sticker": {"file_id": "abc", "emoji": "👍", "width": 512, "height": 512}}}, NOT_TEXT_REPLY),
    ({"message": {"message_id": 5, "chat": {"id": CHAT, "type": "private"}, "date": 1,
                  "voice": {"file_id": "v", "duration": 3}}}, NOT_TEXT_REPLY),
    ({"message": {"message_id": 5, "chat": {"id": CHAT, "type": "private"}, "date": 1,
                  "location": {"latitude": 1.5, "longitude": 2.5}}}, NOT_TEXT_REPLY),
    ({"edited_message": {"message_id": 5, "chat": {"id": CHAT, "type": "private"}, "date": 1,
                         "edit_date": 2, "text": "what types are there"}}, EDITED_REPLY),
    ({"message": {"message_id": 5, "chat": {"id": -100, "type": "group"}, "date": 1, "text": "hello"}}, None),
    ({"channel_post": {"message_id": 5, "chat": {"id": -1001, "type": "channel"}, "date": 1, "text": "x"}}, None),
    ({"my_chat_member": {"chat": {"id": CHAT, "type": "private"}, "date": 1}}, None),
    ({"message": {"message_id": 5, "chat": {"id": "not-a-number"}, "text": "hello"}}, None),
    ({"callback_query": {"id": "9", "from": {"id": CHAT}, "inline_message_id": "x", "data": "/greet"}}, None),
])
def test_updates_without_a_text_message_are_handled_not_crashed_on(fake_telegram, update, reply):
    app = make(fake_telegram)
    status, _ = send(app, dict(update, update_id=fake_telegram.next_update_id()))
    assert status == 200
    assert app.bot.messages == []
    assert sent_texts(fake_telegram) == ([reply] if reply else [])


@pytest.mark.parametrize("raw, status", [
    (b"", 400), (b"{not json", 400), (b"\xff\xfe\x00", 400), (b"[1, 2]", 400), (b'"text"', 400),
    (b"{" + b" " * 300_000 + b"}", 413),
])
def test_malformed_bodies_get_a_clear_error(fake_telegram, raw, status):
    app = make(fake_telegram)
    assert send(app, None, raw=raw)[0] == status
    assert app.bot.messages == []


def test_a_redelivered_update_is_answered_once(fake_telegram):
    app = make(fake_telegram)
    update = fake_telegram.text_update(CHAT, "hello")
    assert send(app, update)[0] == 200
    assert send(app, update)[0] == 200
    assert app.bot.texts == ["hello"]
    assert sent_texts(fake_telegram) == ["You said: hello"]


def test_commands_map_to_intents_and_typed_intent_syntax_is_plain_text(fake_telegram):
    app = make(fake_telegram)
    for text in ["/start", "/help@clinic_test_bot", '/request_appointment{"x":1}', "/types brain"]:
        send(app, fake_telegram.text_update(CHAT, text))
    assert app.bot.texts == ["/greet", "/ask_capabilities", 'request appointment {"x":1}', "types brain"]


def test_a_failing_assistant_gets_an_apology_not_a_500(fake_telegram):
    async def broken(message):
        raise RuntimeError("model exploded")

    app = ChannelApp(TelegramInput(fake_telegram.token, "https://x.example/w", SECRET, fake_telegram.url), broken)
    assert send(app, fake_telegram.text_update(CHAT, "hello"))[0] == 200
    assert sent_texts(fake_telegram) == [ERROR_REPLY]


def test_long_answers_are_split_below_telegrams_limit(fake_telegram):
    long_text = ("The guide says a lot. " * 400).strip()
    app = make(fake_telegram, RecordingBot(lambda m: [{"text": long_text, "buttons": BUTTONS[:1]}]))
    send(app, fake_telegram.text_update(CHAT, "tell me everything"))
    calls = fake_telegram.calls_of("sendMessage")
    assert len(calls) == 3 and all(len(c["text"]) <= 4096 for c in calls)
    assert [("reply_markup" in c) for c in calls] == [False, False, True]
    assert " ".join(c["text"] for c in calls) == long_text


def test_rate_limit_answer_is_waited_out_and_the_message_still_sent(fake_telegram):
    app = make(fake_telegram)
    fake_telegram.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    send(app, fake_telegram.text_update(CHAT, "hello"))
    assert len(fake_telegram.calls_of("sendMessage")) == 2
    assert fake_telegram.calls_of("sendMessage")[1]["text"] == "You said: hello"


def test_start_registers_the_webhook_with_the_secret(fake_telegram):
    channel = TelegramInput(fake_telegram.token, "https://bot.example.org/webhooks/telegram/webhook",
                            SECRET, fake_telegram.url)
    assert asyncio.run(_register(channel)) is True
    assert len(fake_telegram.calls_of("getMe")) == 1
    assert fake_telegram.webhook == {"url": "https://bot.example.org/webhooks/telegram/webhook",
                                     "secret_token": SECRET,
                                     "allowed_updates": ["message", "edited_message", "callback_query", "message_reaction"]}


def test_a_wrong_token_is_reported_not_retried_forever(fake_telegram):
    channel = TelegramInput("123:wrong", "https://bot.example.org/w", SECRET, fake_telegram.url)
    assert asyncio.run(_register(channel)) is False
    assert fake_telegram.webhook == {}


def test_an_unreachable_api_is_retried_then_given_up(fake_telegram):
    fake_telegram.stop()
    channel = TelegramInput(fake_telegram.token, "https://bot.example.org/w", SECRET, fake_telegram.url)
    assert asyncio.run(_register(channel, delay=0.01)) is False


async def _register(channel: TelegramInput, **kwargs: Any) -> bool:
    try:
        return await channel.register_webhook(**kwargs)
    finally:
        await channel.api.close()


def test_the_server_start_sets_the_webhook(fake_telegram):
    """Through Sanic's start-up listeners, as in `rasa run`."""
    app = make(fake_telegram)
    status, _ = app.get("/webhooks/telegram/")
    assert status == 200
    assert fake_telegram.wait_for("setWebhook", timeout=5)


@pytest.mark.parametrize("credentials", [None, {}, {"access_token": "t", "webhook_url": "https://x"},
                                         {"access_token": "t", "webhook_url": "", "secret_token": "s"}])
def test_incomplete_credentials_are_a_clear_error(credentials):
    with pytest.raises(ValueError, match="telegram channel needs"):
        TelegramInput.from_credentials(credentials)


def test_credentials_with_an_api_url(fake_telegram):
    channel = TelegramInput.from_credentials({"access_token": "t", "webhook_url": "https://x", "secret_token": "s",
                                              "api_url": fake_telegram.url})
    assert channel.api.base_url == f"{fake_telegram.url}/bott"

"""Telegram connector: Rasa's, rebuilt for a patient service.

Differences from ``rasa.core.channels.telegram``:
- every webhook request must carry ``X-Telegram-Bot-Api-Secret-Token`` equal to the
  configured secret (Telegram sends it once ``setWebhook`` was given ``secret_token``);
  anything else gets 403 before its body is read;
- updates without a text message (stickers, photos, voice, edited messages, group
  chats, member updates) get a short explanation or are ignored, never a crash;
- button clicks (callback queries) are answered, so the client stops its spinner;
- a patient's 👍 / 👎 reaction on an answer is kept for the staff console (channels/reactions.py);
- payloads longer than Telegram's 64-byte ``callback_data`` are sent as a short id;
- updates Telegram delivers twice (it retries when we are slow) are handled once;
- the Bot API base URL is configurable, so tests talk to a fake API on loopback.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import re
from collections import OrderedDict
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import markup, reactions
from channels.common import ApiError, JsonApi, seen_ids
from channels.guard import CUT_NOTICE, clean_message
from channels.settings import TELEGRAM_API_URL, require
from storage.ids import log_ref

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SENDER_PREFIX = "telegram:"
MAX_BODY = 256 * 1024  # real updates are a few kilobytes
MAX_TEXT = 4096  # Telegram's limit for one message
CALLBACK_DATA_LIMIT = 64  # bytes
# message_reaction: a patient's 👍 / 👎 on an answer (channels/reactions.py)
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "message_reaction"]

NOT_TEXT_REPLY = ("I can only read text messages. Please type your question, "
                  "for example “What types of calcified lesions are there?”")
EDITED_REPLY = "I only read new messages, not edits. Please send your corrected message again."
GROUP_REPLY = "For your privacy, please talk to me in a private chat, not in a group."
EXPIRED_BUTTON_REPLY = "That button has expired. Please type your question instead."
ERROR_REPLY = "Sorry, something went wrong on our side. Please try again in a moment."

# Bot commands Telegram clients offer; other "/words" are read as plain text, so a
# patient cannot trigger intents by typing Rasa's "/intent" syntax.
COMMANDS = {"start": "/greet", "help": "/ask_capabilities"}
_COMMAND = re.compile(r"^/(?P<name>[A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]+)?(?P<rest>.*)$", re.DOTALL)


class TelegramApi(JsonApi):
    """The Bot API: ``POST <base>/bot<token>/<method>``, answers ``{"ok": ..., "result": ...}``."""

    def __init__(self, token: str, base_url: str = TELEGRAM_API_URL) -> None:
        super().__init__(f"{base_url.rstrip('/')}/bot{token}")

    async def call(self, method: str, **params: Any) -> Any:
        body = await self.post(method, {k: v for k, v in params.items() if v is not None})
        if not body.get("ok"):
            raise ApiError(method, str(body.get("description") or "not ok"), int(body.get("error_code") or 0))
        return body.get("result")


class CallbackPayloads:
    """Maps button payloads to ``callback_data`` of at most 64 bytes and back.

    Short payloads travel as they are. Longer ones travel as ``~`` plus a hash and are
    remembered here (in memory, newest 4096); after a restart an unknown id falls
    back to the clicked button's title, which the NLU understands.
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._long: "OrderedDict[str, str]" = OrderedDict()

    def data_for(self, payload: str) -> str:
        if len(payload.encode("utf-8")) <= CALLBACK_DATA_LIMIT and not payload.startswith("~"):
            return payload
        digest = hashlib.sha256(payload.encode("utf-8")).digest()
        key = "~" + base64.urlsafe_b64encode(digest[:16]).decode("ascii").rstrip("=")
        self._long[key] = payload
        self._long.move_to_end(key)
        while len(self._long) > self.size:
            self._long.popitem(last=False)
        return key

    def payload_for(self, data: str) -> Optional[str]:
        if not data.startswith("~"):
            return data
        return self._long.get(data)


def chat_id_of(recipient_id: Text) -> str:
    return recipient_id[len(SENDER_PREFIX):] if recipient_id.startswith(SENDER_PREFIX) else recipient_id


class TelegramOutput(OutputChannel):
    """Sends the bot's messages: HTML-escaped text, buttons as an inline keyboard."""

    @classmethod
    def name(cls) -> Text:
        return "telegram"

    def __init__(self, api: TelegramApi, callbacks: CallbackPayloads) -> None:
        self.api, self.callbacks = api, callbacks

    async def _send(self, recipient_id: Text, text: str, reply_markup: Optional[Dict[str, Any]] = None,
                    rateable: bool = True) -> None:
        pieces = markup.chunks(text, MAX_TEXT - 96) or [" "]
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            sent = await self.api.call(
                "sendMessage",
                chat_id=chat_id_of(recipient_id),
                text=markup.telegram_html(piece),
                parse_mode="HTML",
                disable_web_page_preview=True,
                reply_markup=reply_markup if last else None,
            )
            if rateable and isinstance(sent, dict):  # a reaction on any piece rates the whole answer
                reactions.remember("telegram", chat_id_of(recipient_id), sent.get("message_id"), recipient_id, text)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self._send(recipient_id, text, rateable=kwargs.get("author") != "staff")  # staff: not an answer

    async def send_text_with_buttons(self, recipient_id: Text, text: Text,
                                     buttons: List[Dict[Text, Any]], **kwargs: Any) -> None:
        rows = [
            [{"text": markup.plain(str(b.get("title") or b.get("payload")))[:120],
              "callback_data": self.callbacks.data_for(str(b.get("payload") or b.get("title")))}]
            for b in buttons if b.get("payload") or b.get("title")
        ]
        await self._send(recipient_id, text, {"inline_keyboard": rows} if rows else None)

    async def send_quick_replies(self, recipient_id: Text, text: Text,
                                 quick_replies: List[Dict[Text, Any]], **kwargs: Any) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies)

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self.api.call("sendPhoto", chat_id=chat_id_of(recipient_id), photo=image)

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        message = dict(json_message)
        if not isinstance(message.get("text"), str):
            logger.warning("Custom Telegram message without text skipped")
            return
        message["chat_id"] = chat_id_of(str(message.get("chat_id") or recipient_id))
        await self.api.call("sendMessage", **message)


class TelegramInput(InputChannel):
    """``POST /webhooks/telegram/webhook``: Telegram's updates, checked and handed to Rasa."""

    @classmethod
    def name(cls) -> Text:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        values = require(credentials, ["access_token", "webhook_url", "secret_token"], "telegram")
        api_url = str((credentials or {}).get("api_url") or TELEGRAM_API_URL)
        return cls(values["access_token"], values["webhook_url"], values["secret_token"], api_url)

    def __init__(self, access_token: str, webhook_url: str, secret_token: str,
                 api_url: str = TELEGRAM_API_URL) -> None:
        if not secret_token:
            raise ValueError("The telegram channel needs a secret_token")
        self.webhook_url = webhook_url
        self.secret_token = secret_token
        self.api = TelegramApi(access_token, api_url)
        self.callbacks = CallbackPayloads()
        self.ratings = reactions.Ratings("telegram")
        self.seen_updates = seen_ids("telegram")
        self._tasks: set = set()

    def get_output_channel(self) -> TelegramOutput:
        return TelegramOutput(self.api, self.callbacks)

    # ---- start-up -------------------------------------------------------------------
    async def register_webhook(self, attempts: int = 3, delay: float = 2.0) -> bool:
        """getMe (checks the token), then setWebhook with our secret; retried on network trouble."""
        for attempt in range(1, attempts + 1):
            try:
                me = await self.api.call("getMe")
                await self.api.call("setWebhook", url=self.webhook_url, secret_token=self.secret_token,
                                    allowed_updates=ALLOWED_UPDATES)
                logger.info("Telegram webhook set for @%s", (me or {}).get("username", "?"))
                return True
            except ApiError as exc:
                if exc.status in (400, 401, 403, 404):  # a wrong token or URL does not heal by waiting
                    logger.error("Telegram setWebhook failed: %s", exc)
                    return False
                logger.warning("Telegram setWebhook attempt %d failed: %s", attempt, exc)
                if attempt < attempts:
                    await asyncio.sleep(delay * attempt)
        logger.error("Telegram webhook could not be set; Telegram will not deliver messages")
        return False

    # ---- webhook --------------------------------------------------------------------
    def is_authentic(self, request: Request) -> bool:
        given = request.headers.get(SECRET_HEADER, "")
        return hmac.compare_digest(given.encode("utf-8", "replace"), self.secret_token.encode("utf-8"))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        telegram_webhook = Blueprint("assistant_telegram_webhook", __name__)

        @telegram_webhook.listener("after_server_start")
        async def set_webhook(app: Any, _loop: Any) -> None:
            self.ratings.bind(app)
            task = asyncio.ensure_future(self.register_webhook())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        @telegram_webhook.listener("before_server_stop")
        async def close(_app: Any, _loop: Any) -> None:
            if self._tasks:  # let a webhook registration in flight finish, briefly
                await asyncio.wait(list(self._tasks), timeout=5)
            for task in list(self._tasks):
                task.cancel()
            await self.api.close()
            self.ratings.close()

        @telegram_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @telegram_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if not self.is_authentic(request):
                logger.info("Telegram webhook request without the right secret token rejected")
                return response.text("forbidden", status=403)
            if len(request.body or b"") > MAX_BODY:
                return response.text("update too large", status=413)
            try:
                update = json.loads(request.body or b"")
            except (ValueError, UnicodeDecodeError):
                return response.text("the body is not JSON", status=400)
            if not isinstance(update, dict):
                return response.text("an update is a JSON object", status=400)
            update_id = update.get("update_id")
            if isinstance(update_id, int) and self.seen_updates.check_and_add(update_id):
                return response.text("duplicate")
            try:
                await self.handle_update(update, on_new_message)
            except Exception as exc:  # noqa: BLE001 - answer 200 anyway: Telegram would redeliver it forever
                logger.error("Telegram update %s could not be handled: %s", update_id, type(exc).__name__)
            return response.text("ok")

        return telegram_webhook

    async def handle_update(self, update: Dict[str, Any],
                            on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        if isinstance(update.get("callback_query"), dict):
            await self._handle_button(update["callback_query"], on_new_message)
        elif isinstance(update.get("message"), dict):
            await self._handle_message(update["message"], on_new_message)
        elif isinstance(update.get("message_reaction"), dict):
            await self._handle_reaction(update["message_reaction"])
        elif isinstance(update.get("edited_message"), dict):
            chat = _chat(update["edited_message"])
            if chat and chat.get("type") == "private":
                await self._reply(chat["id"], EDITED_REPLY)
        else:
            logger.debug("Telegram update of kind %s ignored", [k for k in update if k != "update_id"])

    async def _handle_message(self, message: Dict[str, Any],
                              on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        chat = _chat(message)
        if chat is None:
            return
        if chat.get("type") != "private":
            # Added to a group: answer commands addressed to us with why we stay quiet there.
            if isinstance(message.get("text"), str) and message["text"].startswith("/"):
                await self._reply(chat["id"], GROUP_REPLY)
            return
        text = message.get("text")
        if not isinstance(text, str) or not text.strip():
            await self._reply(chat["id"], NOT_TEXT_REPLY)
            return
        await self._dispatch(chat["id"], _command_to_text(text.strip()), on_new_message)

    async def _handle_reaction(self, reaction: Dict[str, Any]) -> None:
        """A 👍 / 👎 on an answer in a private chat: kept for the staff console, silently."""
        chat = _chat(reaction)
        if chat is None or chat.get("type") != "private":
            return
        await self.ratings.rate(chat["id"], reaction.get("message_id"),
                                reactions.telegram_rating(reaction.get("new_reaction")),
                                [f"{SENDER_PREFIX}{chat['id']}"])

    async def _handle_button(self, query: Dict[str, Any],
                             on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        if isinstance(query.get("id"), str):
            try:
                await self.api.call("answerCallbackQuery", callback_query_id=query["id"])
            except ApiError as exc:
                logger.info("answerCallbackQuery failed: %s", exc)
        message = query.get("message") if isinstance(query.get("message"), dict) else {}
        chat = _chat(message)
        data = query.get("data")
        if chat is None or not isinstance(data, str):
            return  # e.g. a button of an inline-mode message: no chat to answer in
        if chat.get("type") != "private":
            return
        payload = self.callbacks.payload_for(data) or _button_title(message, data)
        if not payload:
            await self._reply(chat["id"], EXPIRED_BUTTON_REPLY)
            return
        await self._dispatch(chat["id"], payload, on_new_message)

    async def _dispatch(self, chat_id: int, text: str,
                        on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        try:
            await self.api.call("sendChatAction", chat_id=chat_id, action="typing")
        except ApiError:
            pass  # only cosmetic
        sender = f"{SENDER_PREFIX}{chat_id}"
        guarded = clean_message(text)
        try:
            await on_new_message(UserMessage(guarded.text, self.get_output_channel(), sender,
                                             input_channel=self.name()))
        except Exception as exc:  # noqa: BLE001 - logged without the patient's text
            logger.error("The assistant could not answer Telegram conversation %s: %s", log_ref(sender),
                         type(exc).__name__)
            await self._reply(chat_id, ERROR_REPLY)
            return
        if guarded.cut:
            await self._reply(chat_id, CUT_NOTICE)

    async def _reply(self, chat_id: int, text: str) -> None:
        try:
            await self.api.call("sendMessage", chat_id=chat_id, text=text)
        except ApiError as exc:
            logger.warning("Telegram sendMessage failed: %s", exc)


def _chat(message: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    chat = message.get("chat")
    if isinstance(chat, dict) and isinstance(chat.get("id"), int) and not isinstance(chat.get("id"), bool):
        return chat
    return None


def _command_to_text(text: str) -> str:
    match = _COMMAND.match(text)
    if not match:
        return text
    name, rest = match.group("name").lower(), match.group("rest").strip()
    if name in COMMANDS and not rest:
        return COMMANDS[name]
    return f"{name.replace('_', ' ')} {rest}".strip()


def _button_title(message: Dict[str, Any], data: str) -> Optional[str]:
    """The title of the clicked button, read from the message Telegram sends back with the click."""
    keyboard = ((message.get("reply_markup") or {}).get("inline_keyboard") or []) if isinstance(
        message.get("reply_markup"), dict) else []
    for row in keyboard if isinstance(keyboard, list) else []:
        for button in row if isinstance(row, list) else []:
            if isinstance(button, dict) and button.get("callback_data") == data and isinstance(button.get("text"), str):
                return button["text"]
    return None

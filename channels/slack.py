"""Slack connector: Rasa's, rebuilt for a patient service.

Differences from ``rasa.core.channels.slack``:
- every request is verified with the signing secret: a missing header, a bad
  signature or a timestamp more than five minutes off is rejected (403);
- Slack's retries and duplicate deliveries never produce a second reply: events are
  deduplicated by ``event_id`` (button clicks by ``trigger_id``), in memory, which is
  right for one Rasa replica (several replicas would need a shared store);
- requests are acknowledged at once and answered in the background (Slack retries a
  request that takes more than three seconds);
- more than five buttons become a numbered list, and a typed number picks that button;
- the bot's own and other bots' messages, edits and joins are ignored; a mention in a
  public channel gets a privacy note asking for a direct message;
- a patient's 👍 / 👎 reaction on an answer is kept for the staff console (channels/reactions.py);
- the Web API base URL is configurable, so tests talk to a fake API on loopback.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import html
import json
import logging
import re
import time
from collections import OrderedDict
from typing import Any, Awaitable, Callable, Dict, List, Optional, Set, Text
from urllib.parse import parse_qs

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import markup, reactions
from channels.common import ApiError, JsonApi, seen_ids
from channels.guard import CUT_NOTICE, InputRejected, check_sender, clean_message
from storage.ids import log_ref
from channels.settings import SLACK_API_URL, require

logger = logging.getLogger(__name__)

SENDER_PREFIX = "slack:"
MAX_AGE = 5 * 60  # seconds between Slack signing a request and us accepting it
MAX_BODY = 512 * 1024
MAX_BUTTONS = 5
SECTION_LIMIT = 3000  # characters of one section block
BUTTON_TEXT_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000

CHOOSE_HINT = "Reply with the number of your choice."
PRIVACY_REPLY = "For your privacy, please send me a direct message instead of writing in a channel."
ERROR_REPLY = "Sorry, something went wrong on our side. Please try again in a moment."

_NUMBER = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
_MENTION = re.compile(r"<[@#!][^>]*>")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's request signature: ``v0=`` HMAC-SHA256 of ``v0:<timestamp>:<body>``."""
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    return "v0=" + hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()


def verification_problem(secret: str, headers: Any, body: bytes, now: float) -> Optional[str]:
    """None if the request is Slack's, else why not (for the log; the caller just says 403)."""
    timestamp = headers.get("X-Slack-Request-Timestamp")
    given = headers.get("X-Slack-Signature")
    if not timestamp or not given:
        return "missing signature headers"
    if not re.fullmatch(r"[0-9]{1,12}", timestamp):
        return "malformed timestamp"
    if abs(now - int(timestamp)) > MAX_AGE:
        return "timestamp outside the five-minute window"
    if not hmac.compare_digest(signature(secret, timestamp, body).encode(), given.encode("utf-8", "replace")):
        return "bad signature"
    return None


def typed_text(text: str) -> str:
    """A Slack message as the patient typed it: links unwrapped, mentions dropped, entities decoded."""
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = _MENTION.sub(" ", text)
    return html.unescape(text).strip()


class NumberedChoices:
    """The options of the last numbered list each conversation was shown (newest 10,000 kept)."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._choices: "OrderedDict[str, List[str]]" = OrderedDict()

    def offer(self, conversation: str, payloads: List[str]) -> None:
        self._choices[conversation] = payloads
        self._choices.move_to_end(conversation)
        while len(self._choices) > self.size:
            self._choices.popitem(last=False)

    def clear(self, conversation: str) -> None:
        self._choices.pop(conversation, None)

    def resolve(self, conversation: str, text: str) -> str:
        """The payload of the numbered option the text picks, or the text itself."""
        match = _NUMBER.match(text)
        options = self._choices.get(conversation)
        if match and options and 1 <= int(match.group(1)) <= len(options):
            self.clear(conversation)
            return options[int(match.group(1)) - 1]
        return text


class SlackApi(JsonApi):
    """The Web API: ``POST <base>/<method>`` with a bot token; answers ``{"ok": ..., "error": ...}``."""

    def __init__(self, token: str, base_url: str = SLACK_API_URL) -> None:
        super().__init__(base_url, headers={"Authorization": f"Bearer {token}"})

    async def call(self, method: str, **params: Any) -> Dict[str, Any]:
        body = await self.post(method, {k: v for k, v in params.items() if v is not None})
        if not body.get("ok"):
            raise ApiError(method, str(body.get("error") or "not ok"), int(body.get("_http_status") or 0))
        return body


class SlackOutput(OutputChannel):
    """Posts the bot's messages into one Slack conversation (a DM channel, or the user's DM by id)."""

    @classmethod
    def name(cls) -> Text:
        return "slack"

    def __init__(self, api: SlackApi, choices: NumberedChoices, channel: Optional[str] = None,
                 thread_ts: Optional[str] = None) -> None:
        self.api, self.choices, self.channel, self.thread_ts = api, choices, channel, thread_ts

    def _target(self, recipient_id: Text) -> str:
        if self.channel:
            return self.channel
        # Posting to a user id lands in the app's direct messages with that user.
        return recipient_id.rsplit(":", 1)[-1]

    async def _post(self, recipient_id: Text, text: str, blocks: Optional[List[Dict[str, Any]]] = None,
                    answer: Optional[str] = None) -> None:
        sent = await self.api.call("chat.postMessage", channel=self._target(recipient_id), text=text,
                                   blocks=blocks, thread_ts=self.thread_ts, unfurl_links=False, unfurl_media=False)
        if answer is not None:  # a 👍 / 👎 reaction on this message rates the whole answer
            reactions.remember("slack", sent.get("channel"), sent.get("ts"), recipient_id, answer)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        self.choices.clear(recipient_id)
        # a staff message is not an answer; a numbered list is rated as the answer it lists
        answer = None if kwargs.get("author") == "staff" else kwargs.get("answer", text)
        for piece in markup.chunks(text, SECTION_LIMIT):
            await self._post(recipient_id, markup.slack_mrkdwn(piece), answer=answer)

    async def send_text_with_buttons(self, recipient_id: Text, text: Text,
                                     buttons: List[Dict[Text, Any]], **kwargs: Any) -> None:
        options = [(markup.plain(str(b.get("title") or b.get("payload"))), str(b.get("payload") or b.get("title")))
                   for b in buttons if b.get("payload") or b.get("title")]
        if not options:
            await self.send_text_message(recipient_id, text)
            return
        if len(options) > MAX_BUTTONS or any(len(payload) > BUTTON_VALUE_LIMIT for _, payload in options):
            listing = "\n".join(f"{i}. {title}" for i, (title, _) in enumerate(options, 1))
            await self.send_text_message(recipient_id, f"{text}\n\n{listing}\n\n{CHOOSE_HINT}", answer=text)
            self.choices.offer(recipient_id, [payload for _, payload in options])
            return
        self.choices.clear(recipient_id)
        pieces = markup.chunks(text, SECTION_LIMIT) or [" "]
        for piece in pieces[:-1]:
            await self._post(recipient_id, markup.slack_mrkdwn(piece), answer=text)
        mrkdwn = markup.slack_mrkdwn(pieces[-1])
        blocks = [
            {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}},
            {"type": "actions", "elements": [
                {"type": "button", "action_id": f"choice_{i}", "value": payload,
                 "text": {"type": "plain_text", "text": _shorten(title, BUTTON_TEXT_LIMIT), "emoji": True}}
                for i, (title, payload) in enumerate(options)
            ]},
        ]
        await self._post(recipient_id, mrkdwn, blocks, answer=text)

    async def send_quick_replies(self, recipient_id: Text, text: Text,
                                 quick_replies: List[Dict[Text, Any]], **kwargs: Any) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies)

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self._post(recipient_id, image, [{"type": "image", "image_url": image, "alt_text": "image"}])

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        message = dict(json_message)
        message.setdefault("channel", self._target(recipient_id))
        await self.api.call("chat.postMessage", **message)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class SlackInput(InputChannel):
    """``POST /webhooks/slack/webhook``: Events API and interactivity (buttons), one URL for both."""

    @classmethod
    def name(cls) -> Text:
        return "slack"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        values = require(credentials, ["slack_token", "slack_signing_secret"], "slack")
        api_url = str((credentials or {}).get("api_url") or SLACK_API_URL)
        return cls(values["slack_token"], values["slack_signing_secret"], api_url)

    def __init__(self, slack_token: str, slack_signing_secret: str, api_url: str = SLACK_API_URL,
                 clock: Callable[[], float] = time.time) -> None:
        if not slack_signing_secret:
            raise ValueError("The slack channel needs a signing secret")
        self.signing_secret = slack_signing_secret
        self.api = SlackApi(slack_token, api_url)
        self.clock = clock
        self.seen = seen_ids("slack")
        self.choices = NumberedChoices()
        self.ratings = reactions.Ratings("slack")
        self.bot_user_id: Optional[str] = None
        self._tasks: Set[asyncio.Task] = set()

    def get_output_channel(self, channel: Optional[str] = None, thread_ts: Optional[str] = None) -> SlackOutput:
        return SlackOutput(self.api, self.choices, channel, thread_ts)

    async def learn_bot_user(self) -> None:
        try:
            self.bot_user_id = (await self.api.call("auth.test")).get("user_id")
        except ApiError as exc:
            logger.error("Slack auth.test failed (check SLACK_BOT_TOKEN): %s", exc)

    async def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait for the replies being sent in the background (used on shutdown and in tests)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)

    def _spawn(self, coroutine: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        slack_webhook = Blueprint("assistant_slack_webhook", __name__)

        @slack_webhook.listener("after_server_start")
        async def start(app: Any, _loop: Any) -> None:
            self.ratings.bind(app)
            self._spawn(self.learn_bot_user())

        @slack_webhook.listener("before_server_stop")
        async def stop(_app: Any, _loop: Any) -> None:
            await self.wait_idle()
            await self.api.close()
            self.ratings.close()

        @slack_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @slack_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            body = request.body or b""
            if len(body) > MAX_BODY:
                return response.text("request too large", status=413)
            problem = verification_problem(self.signing_secret, request.headers, body, self.clock())
            if problem:
                logger.info("Slack request rejected: %s", problem)
                return response.text("request not signed by Slack", status=403)
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            try:
                if content_type == "application/json":
                    return self._on_event(json.loads(body), on_new_message)
                if content_type == "application/x-www-form-urlencoded":
                    form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
                    return self._on_interaction(json.loads(form.get("payload", [""])[0]), on_new_message)
            except (ValueError, UnicodeDecodeError):
                return response.text("malformed body", status=400)
            return response.text("unsupported content type", status=415)

        return slack_webhook

    # ---- Events API -------------------------------------------------------------------
    def _on_event(self, payload: Any, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        if not isinstance(payload, dict):
            return response.text("an event is a JSON object", status=400)
        if payload.get("type") == "url_verification":
            challenge = payload.get("challenge")
            if not isinstance(challenge, str):
                return response.text("challenge missing", status=400)
            return response.json({"challenge": challenge})
        if payload.get("type") != "event_callback":
            return response.text("ignored")
        event_id, event = payload.get("event_id"), payload.get("event")
        if not isinstance(event_id, str) or not isinstance(event, dict):
            return response.text("event_id and event required", status=400)
        if self.seen.check_and_add(("event", event_id)):
            logger.info("Slack delivered an event again; not answered twice")
            return response.text("duplicate")

        if event.get("type") == "reaction_added":
            return self._on_reaction(payload, event)
        user, channel, text = event.get("user"), event.get("channel"), event.get("text")
        from_a_bot = bool(event.get("bot_id")) or event.get("subtype") is not None or (
            self.bot_user_id is not None and user == self.bot_user_id)
        if from_a_bot or not isinstance(user, str) or not isinstance(channel, str):
            return response.text("ignored")
        if event.get("type") == "app_mention":
            thread = event.get("thread_ts") or event.get("ts")
            self._spawn(self._say(channel, PRIVACY_REPLY, thread if isinstance(thread, str) else None))
            return response.text("ok")
        if event.get("type") != "message" or event.get("channel_type") != "im" or not isinstance(text, str):
            return response.text("ignored")
        text = typed_text(text)
        if not text:
            return response.text("ignored")
        sender = f"{SENDER_PREFIX}{payload.get('team_id') or event.get('team') or '-'}:{user}"
        self._spawn(self._process(self.choices.resolve(sender, text), sender, channel, on_new_message))
        return response.text("ok")

    def _on_reaction(self, payload: Dict[str, Any], event: Dict[str, Any]) -> HTTPResponse:
        """A patient's 👍 / 👎 on an answer in their direct messages: kept for the staff console."""
        item = event.get("item") if isinstance(event.get("item"), dict) else {}
        user, rating = event.get("user"), reactions.slack_rating(event.get("reaction"))
        if (item.get("type") != "message" or not isinstance(user, str) or rating is None
                or not isinstance(item.get("channel"), str) or not isinstance(item.get("ts"), str)):
            return response.text("ignored")
        patient = f"{SENDER_PREFIX}{payload.get('team_id') or event.get('team') or '-'}:{user}"
        self._spawn(self.ratings.rate(item["channel"], item["ts"], rating, [patient]))
        return response.text("ok")

    # ---- interactivity (button clicks) --------------------------------------------------
    def _on_interaction(self, payload: Any, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        if not isinstance(payload, dict) or payload.get("type") != "block_actions":
            return response.text("ignored")
        actions = payload.get("actions")
        user = payload.get("user") if isinstance(payload.get("user"), dict) else {}
        channel = payload.get("channel") if isinstance(payload.get("channel"), dict) else {}
        action = actions[0] if isinstance(actions, list) and actions and isinstance(actions[0], dict) else {}
        value, user_id, channel_id = action.get("value"), user.get("id"), channel.get("id")
        if not all(isinstance(v, str) and v for v in (value, user_id, channel_id)):
            return response.text("ignored")
        key = payload.get("trigger_id") or f"{user_id}:{action.get('action_ts')}"
        if self.seen.check_and_add(("action", key)):
            return response.text("duplicate")
        team = (payload.get("team") or {}).get("id") if isinstance(payload.get("team"), dict) else None
        sender = f"{SENDER_PREFIX}{team or user.get('team_id') or '-'}:{user_id}"
        self.choices.clear(sender)
        self._spawn(self._process(value, sender, channel_id, on_new_message))
        return response.text("")

    async def _process(self, text: str, sender: str, channel: str,
                       on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        try:
            sender = check_sender(sender)
        except InputRejected as exc:
            logger.info("Slack event with an unusable user id ignored: %s", exc)
            return
        guarded = clean_message(text)
        try:
            await on_new_message(UserMessage(guarded.text, self.get_output_channel(channel), sender,
                                             input_channel=self.name(), metadata={"slack_channel": channel}))
        except Exception as exc:  # noqa: BLE001 - logged without the patient's text
            logger.error("The assistant could not answer Slack conversation %s: %s", log_ref(sender),
                         type(exc).__name__)
            await self._say(channel, ERROR_REPLY)
            return
        if guarded.cut:
            await self._say(channel, CUT_NOTICE)

    async def _say(self, channel: str, text: str, thread_ts: Optional[str] = None) -> None:
        try:
            await self.api.call("chat.postMessage", channel=channel, text=text, thread_ts=thread_ts)
        except ApiError as exc:
            logger.warning("Slack chat.postMessage failed: %s", exc)

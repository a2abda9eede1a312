"""The staff console's way into a conversation: take it over, reply, hand it back.

``POST /webhooks/staff/take``, ``/reply`` and ``/release``, each with
``Authorization: Bearer <STAFF_RELAY_TOKEN>`` and a JSON body
``{"conversation_id": ..., "staff": <name>, "text": <reply>, "force": <bool>}``.
Only the console calls these (webapp/staff/live.py); patients never can.

Each call changes the conversation in Rasa's own tracker, under the conversation's lock
(so it never interleaves with a patient's turn on any replica):

* ``take`` sets the slot ``live_agent`` to the staff member's name and says so to the
  patient; while it is set ``rasa_ext.live_agent.LiveAgentPolicy`` keeps the assistant
  silent (red-flag emergency advice still goes out first). A form in progress stops.
* ``reply`` adds the text as a message written by that staff member
  (``BotUttered`` with ``metadata.author == "staff"``), only while they hold it.
* ``release`` clears the slot and tells the patient the assistant answers again.

Then the message goes to the patient on the channel they last wrote on: the widget at
once over socket.io (through Redis to whichever replica holds the socket, when
scaled out), Telegram and Slack through their APIs, and REST clients in the answer to
their next request (channels/outbox.py). A message that could not be delivered stays in
the conversation; the answer says so (``"delivered": "failed"``).
"""

from __future__ import annotations

import hmac
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text, Tuple

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.shared.core.events import ActiveLoop, BotUttered, Event, SlotSet
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import outbox
from channels.guard import MAX_MESSAGE_CHARS, InputRejected, check_sender, clean_message, json_object
from channels.settings import require
from storage.ids import log_ref

logger = logging.getLogger(__name__)

SLOT = "live_agent"
MAX_NAME = 100
VERBS = ("take", "reply", "release")


def joined_notice(staff: str) -> str:
    return (f"{staff} from the clinic's team has joined this conversation and will answer you here. "
            "The automated assistant stays quiet until they hand the conversation back.")


BACK_NOTICE = ("The clinic's team has handed this conversation back to the automated assistant. "
               "You can ask me about calcified lesions, or ask for a person again at any time.")


class Conflict(Exception):
    """The conversation is not in a state that allows this (held by someone else, not held)."""

    def __init__(self, message: str, holder: Optional[str] = None) -> None:
        super().__init__(message)
        self.holder = holder


def _staff_name(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_NAME or not raw.isprintable():
        raise InputRejected(f"staff must be a printable name of 1-{MAX_NAME} characters")
    return raw.strip()


def _reply_text(raw: Any) -> str:
    if isinstance(raw, str) and len(raw) > MAX_MESSAGE_CHARS:
        raise InputRejected(f"text must be at most {MAX_MESSAGE_CHARS} characters")
    text = clean_message(raw).text.strip()
    if not text:
        raise InputRejected("text must not be empty")
    return text


def staff_message(text: str, staff: str) -> BotUttered:
    return BotUttered(text, metadata={"author": "staff", "staff": staff})


def notice(text: str, kind: str) -> BotUttered:
    return BotUttered(text, metadata={"author": "assistant", "notice": kind})


def plan(verb: str, tracker: Any, staff: str, text: str, force: bool) -> Tuple[List[Event], List[BotUttered]]:
    """The events one call adds to a conversation, and which of them the patient is sent."""
    holder = tracker.get_slot(SLOT)
    if verb == "take":
        if holder == staff:
            return [], []
        if holder and not force:
            raise Conflict(f"{holder} holds this conversation", holder)
        events: List[Event] = []
        if tracker.active_loop_name:  # the person takes over from a booking or deletion form
            events += [ActiveLoop(None), SlotSet("requested_slot", None)]
        said = notice(joined_notice(staff), "joined")
        return events + [SlotSet(SLOT, staff), said], [said]
    if verb == "reply":
        if holder != staff:
            raise Conflict("take the conversation over before replying" if not holder
                           else f"{holder} holds this conversation", holder)
        said = staff_message(text, staff)
        return [said], [said]
    # release
    if not holder:
        return [], []
    if holder != staff and not force:
        raise Conflict(f"{holder} holds this conversation", holder)
    said = notice(BACK_NOTICE, "handed_back")
    return [SlotSet(SLOT, None), said], [said]


def payload(event: BotUttered) -> Dict[str, Any]:
    """A message as the widget and REST clients receive it: the text and who wrote it."""
    meta = event.metadata or {}
    message: Dict[str, Any] = {"text": event.text, "author": meta.get("author", "assistant")}
    if meta.get("staff"):
        message["staff"] = meta["staff"]
    return message


def chat_text(event: BotUttered) -> str:
    """Telegram and Slack show no author on a bot's message: a staff reply names its writer."""
    meta = event.metadata or {}
    return f"{meta['staff']} (clinic team): {event.text}" if meta.get("author") == "staff" else event.text


async def deliver(app: Any, conversation_id: str, channel_name: Optional[str],
                  messages: List[BotUttered]) -> str:
    """'now', 'next_request' (REST), 'failed' or 'none' (nothing to send)."""
    if not messages:
        return "none"
    if channel_name == "rest":
        box = outbox.current()
        for event in messages:
            box.put(conversation_id, {"recipient_id": conversation_id, **payload(event)})
        return "next_request"
    channels = {c.name(): c for c in getattr(app.ctx, "input_channels", None) or []}
    channel = channels.get(channel_name or "")
    try:
        if channel_name == "socketio" and getattr(channel, "sio", None) is not None:
            from channels.socketio import emit_to_conversation

            for event in messages:
                await emit_to_conversation(channel.sio, channel.bot_message_evt, payload(event), conversation_id,
                                           channel.namespace)
            return "now"
        output = channel.get_output_channel() if channel is not None else None
        if output is None:
            logger.warning("Staff message for conversation %s: channel %s cannot be reached",
                           log_ref(conversation_id), channel_name)
            return "failed"
        for event in messages:
            # author: not an answer of the assistant's, so a reaction on it is no rating
            await output.send_text_message(conversation_id, chat_text(event), author="staff")
        return "now"
    except Exception as exc:  # noqa: BLE001 - the message is kept; the console shows it undelivered
        logger.error("Staff message for conversation %s not delivered on %s: %s", log_ref(conversation_id),
                     channel_name, type(exc).__name__)
        return "failed"


class StaffRelayInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "staff"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        return cls(require(credentials, ["token"], "staff relay")["token"])

    def __init__(self, token: str) -> None:
        if len(token) < 16:
            raise ValueError("The staff relay's token must have at least 16 characters")
        self.token = token

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        sent = header[len("Bearer "):] if header.startswith("Bearer ") else ""
        return bool(sent) and hmac.compare_digest(sent.encode(), self.token.encode())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        relay = Blueprint("assistant_staff_relay", __name__)

        @relay.route("/<verb:str>", methods=["POST"])
        async def act(request: Request, verb: str) -> HTTPResponse:
            if not self._authorised(request):
                return response.json({"error": "not authorised"}, status=401)
            if verb not in VERBS:
                return response.json({"error": "unknown action"}, status=404)
            try:
                body = json_object(request.body)
                conversation_id = check_sender(body.get("conversation_id"))
                staff = _staff_name(body.get("staff"))
                text = _reply_text(body.get("text")) if verb == "reply" else ""
                force = body.get("force") is True
            except InputRejected as exc:
                return response.json({"error": str(exc)}, status=400)
            agent = request.app.ctx.agent
            try:
                async with agent.lock_store.lock(conversation_id):
                    if not await agent.tracker_store.exists(conversation_id):
                        return response.json({"error": "no such conversation"}, status=404)
                    tracker = await agent.processor.get_tracker(conversation_id)
                    events, said = plan(verb, tracker, staff, text, force)
                    if events:
                        for event in events:
                            tracker.update(event)
                        await agent.processor.save_tracker(tracker)
                    channel_name = tracker.get_latest_input_channel()
            except Conflict as exc:
                return response.json({"error": str(exc), "holder": exc.holder}, status=409)
            except Exception as exc:  # noqa: BLE001 - the lock store or the database is away
                logger.error("Staff %s on conversation %s failed: %s", verb, log_ref(conversation_id),
                             type(exc).__name__)
                return response.json({"error": "the conversation store is unavailable"}, status=503,
                                     headers={"Retry-After": "10"})
            delivered = await deliver(request.app, conversation_id, channel_name, said)
            return response.json({"ok": True, "channel": channel_name, "delivered": delivered,
                                  "holder": tracker.get_slot(SLOT)})

        return relay

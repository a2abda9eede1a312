"""The REST channel (``POST /webhooks/rest/webhook``) behind the input guard.

Same path, body and answer as Rasa's own ``rest`` channel, with these differences:

* the body must be a JSON object of at most 1 MB, ``sender`` printable text of at
  most 128 characters and ``message`` a string (missing: an empty message); anything
  else gets HTTP 400 with ``{"error": ...}`` instead of a crash or a stored broken row;
* the text passes channels/guard.py: invalid Unicode repaired, cut at 2,000
  characters, and then the patient is told it was cut;
* a sender id may not take another channel's conversation: ids shaped like the
  widget's (64 hex digits) or prefixed ``telegram:`` / ``slack:`` are refused, so
  knowing a widget conversation's id is not enough to write into it through REST;
* ``input_channel`` comes from the channel, never from the body (a REST client
  cannot claim to be Telegram);
* a staff member's messages (live take-over, channels/staff_relay.py) reach a REST
  client at the start of the answer to its next request, each once, with
  ``"author": "staff"`` and the writer's name under ``"staff"``;
* failures are logged with a conversation reference, never with the message text; a
  turn that fails (the lock store or the database unreachable) gets HTTP 503 with
  ``{"error": ..., "said": [...]}`` (what was said before it failed, if anything) and
  ``Retry-After``: never a 200 for a turn that was not stored.
  ``?stream=true`` (Rasa's streaming variant) is not offered.

REST has no authentication of its own: it is for the clinic's own integrations and
tests. Do not expose it to the internet (README, Security).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import outbox
from channels.guard import (CUT_NOTICE, UNAVAILABLE_NOTICE, InputRejected, check_sender, clean_message,
                            json_object, metadata_object)
from storage.ids import WIDGET_SESSION_RE, log_ref

logger = logging.getLogger(__name__)

OTHER_CHANNEL_PREFIXES = ("telegram:", "slack:")


def rest_sender(raw: Any) -> str:
    sender = check_sender(raw)
    if WIDGET_SESSION_RE.fullmatch(sender.lower()) or sender.lower().startswith(OTHER_CHANNEL_PREFIXES):
        raise InputRejected("this sender id belongs to another channel's conversations")
    return sender


class RestInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("assistant_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                body = json_object(request.body)
                sender = rest_sender(body.get("sender"))
                guarded = clean_message(body.get("message"))
                metadata = metadata_object(body.get("metadata"))
            except InputRejected as exc:
                return response.json({"error": str(exc)}, status=400)
            collector = CollectingOutputChannel()
            message = UserMessage(guarded.text, collector, sender, input_channel=self.name(), metadata=metadata)
            try:
                await on_new_message(message)
            except asyncio.CancelledError:
                logger.error("REST message of conversation %s timed out", log_ref(sender))
            except Exception as exc:  # noqa: BLE001 - the client gets what was said so far
                logger.error("REST message of conversation %s failed: %s", log_ref(sender), type(exc).__name__)
                # The turn was not stored (the lock store or the database unreachable, even
                # after rasa_ext.tracker_store's retries): 503, so that the client sends it
                # again, with whatever was said before it failed ("said": emergency advice
                # is never withheld), rather than a 200 for a turn that is not kept.
                body = {"error": UNAVAILABLE_NOTICE}
                if collector.messages:
                    body["said"] = collector.messages
                return response.json(body, status=503, headers={"Retry-After": "30"})
            if guarded.cut:
                await collector.send_text_message(sender, CUT_NOTICE)
            # Taken only after a stored turn: on a 503 they wait for the next request.
            return response.json(outbox.current().take(sender) + collector.messages)

        return webhook

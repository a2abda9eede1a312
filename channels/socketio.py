"""The website widget's channel: Rasa's socket.io connector with three fixes.

1. Rasa 3.6 calls ``sio.enter_room()`` without ``await``; with python-socketio 5.x that
   is a coroutine, so with ``session_persistence`` the socket never joins its session's
   room and receives no answers at all. Here the call is awaited.
2. Stock Rasa lets a socket name any session id, and the session id becomes the
   conversation's ``sender_id``: a client could write into a Telegram or Slack
   patient's conversation (``telegram:123``). Here a session id must look like the
   widget's (64 hex digits, a SHA-256 of the browser's secret token), and a socket
   can only send in the one session it asked for.
3. Malformed events (a non-text message, huge texts, metadata that is not an object)
   are dropped with a log line instead of raising inside the server.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional, Text

import rasa.core.channels.channel
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput as RasaSocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

logger = logging.getLogger(__name__)

SESSION_ID_RE = re.compile(r"^[0-9a-f]{64}$")
MAX_MESSAGE = 2000  # characters; longer texts are cut (the widget's input allows 1000)


def new_session_id() -> str:
    return uuid.uuid4().hex + uuid.uuid4().hex


class SocketIOInput(RasaSocketIOInput):
    """Same name, path and events as Rasa's ``socketio`` channel."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # Rasa's workaround for cross-origin clients: no CORS checks (the widget uses websocket).
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[])
        socketio_webhook = SocketBlueprint(sio, self.socketio_path, "assistant_socketio_webhook", __name__)
        self.sio = sio
        sessions: Dict[str, str] = {}  # socket id -> the session (conversation) it joined

        @socketio_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: Text, environ: Dict, auth: Optional[Dict]) -> bool:
            if not self.jwt_key:
                return True
            token = auth.get("token") if isinstance(auth, dict) else None
            payload = None
            if token:
                payload = rasa.core.channels.channel.decode_bearer_token(token, self.jwt_key, self.jwt_algorithm)
            return bool(payload)

        @sio.on("disconnect", namespace=self.namespace)
        async def disconnect(sid: Text) -> None:
            sessions.pop(sid, None)

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Any = None) -> None:
            requested = data.get("session_id") if isinstance(data, dict) else None
            if requested is None:
                requested = new_session_id()
            if not isinstance(requested, str) or not SESSION_ID_RE.fullmatch(requested):
                logger.info("socket.io session request with a malformed session id refused")
                await sio.emit("session_error", {"error": "session_id must be 64 hexadecimal digits"}, room=sid)
                return
            if self.session_persistence:
                previous = sessions.get(sid)
                if previous and previous != requested:
                    await sio.leave_room(sid, previous, namespace=self.namespace)
                await sio.enter_room(sid, requested, namespace=self.namespace)
            sessions[sid] = requested
            await sio.emit("session_confirm", requested, room=sid)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: Text, data: Any = None) -> None:
            if not isinstance(data, dict) or not isinstance(data.get("message"), str):
                logger.info("socket.io message without text dropped")
                return
            if self.session_persistence:
                sender_id = sessions.get(sid)
                if sender_id is None or data.get("session_id") not in (None, sender_id):
                    logger.info("socket.io message outside the socket's session dropped")
                    return
            else:
                sender_id = sid
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = {}
            if not isinstance(metadata, dict):
                metadata = {}
            message = UserMessage(data["message"][:MAX_MESSAGE], SocketIOOutput(sio, self.bot_message_evt),
                                  sender_id, input_channel=self.name(), metadata=metadata)
            await on_new_message(message)

        return socketio_webhook

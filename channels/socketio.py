"""The website widget's channel: Rasa's socket.io connector, fixed and bound to the browser's token.

1. Rasa 3.6 calls ``sio.enter_room()`` without ``await``; with python-socketio 5.x that
   is a coroutine, so with ``session_persistence`` the socket never joins its session's
   room and receives no answers at all. Here the call is awaited.
2. Stock Rasa lets a socket name any session id, and the session id becomes the
   conversation's ``sender_id``: whoever knows a conversation id (the staff console
   shows it, logs held it) could join it, receive its replies and write into it.
   Here ``session_request`` carries the browser's secret ``token`` and the server
   derives the conversation id from it (storage/ids.py); a request naming a bare
   ``session_id`` is refused. A socket can only send in the session it proved.
3. Every message passes the input guard (channels/guard.py): invalid Unicode is
   repaired, the text is cut at 2,000 characters (the patient is told), malformed
   events (a non-text message, metadata that is not an object) are dropped with a
   log line instead of raising inside the server.
4. A staff member's reply (live take-over, channels/staff_relay.py) may be sent by a
   replica that does not hold the patient's socket. With ``REDIS_HOST`` set, the socket
   server shares rooms through Redis (python-socketio's AsyncRedisManager), but only for
   those messages (``emit_everywhere``): the assistant's own answers go to a socket of
   the replica that answers, so they never wait for Redis.
5. The emergency advice is marked as such (``"kind": "emergency"`` and the number to call,
   ``EMERGENCY_NUMBER``, under ``"call"`` when it is a number), so that the widget shows it
   as an alert with a tap-to-call link rather than as one more grey bubble.
"""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any, Awaitable, Callable, Dict, Optional, Text

import rasa.core.channels.channel
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput as RasaSocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncRedisManager, AsyncServer

from channels.guard import CUT_NOTICE, UNAVAILABLE_NOTICE, InputRejected, clean_message
from clinic.responses import EMERGENCY_RESPONSE
from storage.ids import WIDGET_TOKEN_RE, log_ref, widget_session_id

logger = logging.getLogger(__name__)



class PatientSocketOutput(SocketIOOutput):
    """Rasa's socket.io output, with the emergency advice sent whole and marked."""

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        if message.get("utter_action") == EMERGENCY_RESPONSE and message.get("text"):
            from clinic import settings as clinic

            alert = {"text": message["text"], "kind": "emergency"}
            number = clinic.emergency_call_number(clinic.emergency_number())
            if number:
                alert["call"] = number
            await self._send_message(recipient_id, alert)
            return
        await super().send_response(recipient_id, message)


class StaffRooms(AsyncRedisManager):
    """Rooms shared by every replica through Redis, for staff messages only."""

    async def emit(self, event, data, namespace=None, room=None, skip_sid=None, callback=None, to=None,
                   **kwargs):
        kwargs["ignore_queue"] = True  # this replica's sockets only
        return await super().emit(event, data, namespace=namespace, room=room, skip_sid=skip_sid,
                                  callback=callback, to=to, **kwargs)

    async def emit_everywhere(self, event: str, data: Any, namespace: Optional[str] = None,
                              room: Optional[str] = None) -> None:
        await AsyncRedisManager.emit(self, event, data, namespace=namespace, room=room)


def client_manager() -> Optional[StaffRooms]:
    from clinic import settings as clinic

    host = clinic.redis_host()
    if not host:
        return None  # one process: python-socketio's in-memory rooms
    url = f"redis://{host}:{clinic.redis_port()}/{clinic.redis_db()}"
    return StaffRooms(url, channel="calcified-socketio")


async def emit_to_conversation(sio: AsyncServer, event: str, data: Any, conversation_id: str,
                               namespace: Optional[str] = None) -> None:
    """Send to the conversation's sockets on whichever replica holds them."""
    manager = sio.manager
    if isinstance(manager, StaffRooms):
        await manager.emit_everywhere(event, data, namespace=namespace or "/", room=conversation_id)
    else:
        await sio.emit(event, data, room=conversation_id, namespace=namespace)


TOKEN_ERROR = "session_request needs the browser's token: 32-128 characters of A-Z, a-z, 0-9, _ and -"


def session_for(data: Any) -> str:
    """The conversation id a ``session_request`` may join, or InputRejected.

    ``{"token": T}`` -> the id derived from T; ``{}`` -> a fresh id no one else knows
    (a client without a token cannot come back to it); anything naming a
    ``session_id`` without the token that derives it is refused.
    """
    data = data if isinstance(data, dict) else {}
    token = data.get("token")
    if token is None and data.get("session_id") is None:
        return widget_session_id(secrets.token_urlsafe(32))
    if not isinstance(token, str) or not WIDGET_TOKEN_RE.fullmatch(token):
        raise InputRejected(TOKEN_ERROR)
    return widget_session_id(token)


class SocketIOInput(RasaSocketIOInput):
    """Same name, path and events as Rasa's ``socketio`` channel."""

    def get_output_channel(self) -> Optional[PatientSocketOutput]:
        return PatientSocketOutput(self.sio, self.bot_message_evt) if self.sio is not None else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # Rasa's workaround for cross-origin clients: no CORS checks (the widget uses websocket).
        manager = client_manager()
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[],
                          **({"client_manager": manager} if manager else {}))
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
            try:
                requested = session_for(data)
            except InputRejected as exc:
                logger.info("socket.io session request without a valid token refused")
                await sio.emit("session_error", {"error": str(exc)}, room=sid)
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
            guarded = clean_message(data["message"])
            output = PatientSocketOutput(sio, self.bot_message_evt)
            message = UserMessage(guarded.text, output, sender_id, input_channel=self.name(), metadata=metadata)
            try:
                await on_new_message(message)
            except Exception as exc:  # noqa: BLE001 - never the text: it is the patient's
                logger.error("socket.io message of conversation %s failed: %s", log_ref(sender_id),
                             type(exc).__name__)
                await output.send_text_message(sender_id, UNAVAILABLE_NOTICE)  # never silence
            if guarded.cut:
                await output.send_text_message(sender_id, CUT_NOTICE)

        return socketio_webhook

"""Fake Telegram Bot API and Slack Web API servers on loopback, speaking the real HTTP protocols.

Each runs in its own thread (a stdlib ThreadingHTTPServer), so the code under test
talks to it over a real socket from any event loop. They check requests the way
the real services do where it matters to us (tokens, required fields, Telegram's
64-byte callback_data and HTML parsing, Slack's block limits) and record every call.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import parse_qs, urlsplit

import requests


class _Server:
    """A loopback HTTP server in a thread; subclasses answer ``handle(path, headers, body)``."""

    def __init__(self) -> None:
        self.calls: List[Tuple[str, Dict[str, Any]]] = []
        self.results: List[Tuple[str, Any]] = []  # what each successful call answered
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, answer, headers = outer.handle(urlsplit(self.path), self.headers, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (e.g. a start-up task cancelled at shutdown)

            do_GET = do_POST

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def handle(self, url: Any, headers: Any, body: bytes) -> Tuple[int, Dict[str, Any], Dict[str, str]]:
        raise NotImplementedError

    def start(self) -> "_Server":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def record(self, method: str, params: Dict[str, Any]) -> None:
        with self._lock:
            self.calls.append((method, params))

    def record_result(self, method: str, result: Any) -> None:
        with self._lock:
            self.results.append((method, result))

    def results_of(self, method: str) -> List[Any]:
        with self._lock:
            return [result for name, result in self.results if name == method]

    def calls_of(self, method: str) -> List[Dict[str, Any]]:
        with self._lock:
            return [params for name, params in self.calls if name == method]

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()
            self.results.clear()

    def wait_for(self, method: str, count: int = 1, timeout: float = 30.0,
                 where: Callable[[Dict[str, Any]], bool] = lambda p: True) -> List[Dict[str, Any]]:
        """Block (this thread only) until ``count`` matching calls arrived; return them all."""
        deadline = time.monotonic() + timeout
        while True:
            found = [p for p in self.calls_of(method) if where(p)]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.05)


def _params(headers: Any, body: bytes, query: str) -> Dict[str, Any]:
    """Parameters the way both APIs accept them: JSON body, form body or query string."""
    content_type = (headers.get("Content-Type") or "").split(";")[0].strip()
    if content_type == "application/json":
        value = json.loads(body or b"{}")
        return value if isinstance(value, dict) else {}
    params = {k: v[-1] for k, v in parse_qs(query).items()}
    if body:
        params.update({k: v[-1] for k, v in parse_qs(body.decode()).items()})
    for key in ("reply_markup", "blocks", "allowed_updates"):  # JSON-serialized in form bodies
        if isinstance(params.get(key), str):
            params[key] = json.loads(params[key])
    return params


# ---------------------------------------------------------------------------------------
# Telegram
# ---------------------------------------------------------------------------------------
TELEGRAM_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
                 "tg-spoiler", "span", "blockquote"}


class _TelegramHtml(HTMLParser):
    """Telegram's HTML parse mode: only its tags, properly nested; collects the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: List[str] = []
        self.text: List[str] = []
        self.error: Optional[str] = None

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag not in TELEGRAM_TAGS:
            self.error = self.error or f"Unsupported start tag \"{tag}\""
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.error = self.error or f"Unexpected end tag \"{tag}\""

    def handle_data(self, data: str) -> None:
        self.text.append(data)


_TAG = re.compile(r"</?[a-z][a-z-]*(?:\s[^<>]*)?>")
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|lt|gt|amp|quot);")


def telegram_visible_text(text: str, parse_mode: Optional[str]) -> Tuple[str, Optional[str]]:
    """The text a user sees, and the error Telegram gives for bad HTML (None if fine)."""
    if parse_mode != "HTML":
        return text, None
    if re.search(r"[<>&]", _ENTITY.sub("", _TAG.sub("", text))):
        return text, "unescaped <, > or & outside a tag or entity"
    parser = _TelegramHtml()
    parser.feed(text)
    parser.close()
    if parser.stack and not parser.error:
        parser.error = f"Can't find end tag corresponding to start tag \"{parser.stack[-1]}\""
    return "".join(parser.text), parser.error


class FakeTelegram(_Server):
    """``/bot<token>/<method>``: getMe, setWebhook, getWebhookInfo, sendMessage, sendChatAction,
    answerCallbackQuery, sendPhoto. ``deliver()`` posts an update to the registered webhook
    as Telegram does, with the secret header it was given."""

    BOT = {"id": 7000001, "is_bot": True, "first_name": "Clinic assistant", "username": "clinic_test_bot"}

    def __init__(self, token: str = "7000001:test-token") -> None:
        super().__init__()
        self.token = token
        self.webhook: Dict[str, Any] = {}
        self.failures: Dict[str, List[Tuple[int, Dict[str, Any]]]] = {}
        self._ids = itertools.count(100)
        self._updates = itertools.count(500_000)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail_next(self, method: str, status: int, description: str, retry_after: Optional[int] = None) -> None:
        answer: Dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            answer["parameters"] = {"retry_after": retry_after}
        self.failures.setdefault(method, []).append((status, answer))

    def handle(self, url: Any, headers: Any, body: bytes) -> Tuple[int, Dict[str, Any], Dict[str, str]]:
        parts = url.path.strip("/").split("/")
        if len(parts) != 2 or not parts[0].startswith("bot"):
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}, {}
        token, method = parts[0][3:], parts[1]
        if token != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}, {}
        try:
            params = _params(headers, body, url.query)
        except ValueError:
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: invalid JSON"}, {}
        self.record(method, params)
        if self.failures.get(method):
            status, answer = self.failures[method].pop(0)
            return status, answer, {}
        handler = getattr(self, f"_{method}", None)
        if handler is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}, {}
        try:
            result = handler(params)
            self.record_result(method, result)
            return 200, {"ok": True, "result": result}, {}
        except BadRequest as exc:
            return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"}, {}

    def _getMe(self, params: Dict[str, Any]) -> Dict[str, Any]:  # noqa: N802
        return dict(self.BOT)

    def _setWebhook(self, params: Dict[str, Any]) -> bool:  # noqa: N802
        url = params.get("url")
        if not isinstance(url, str):
            raise BadRequest("bad webhook: url is required")
        secret = params.get("secret_token")
        if secret is not None and not (isinstance(secret, str) and 1 <= len(secret) <= 256
                                       and all(c.isalnum() or c in "_-" for c in secret)):
            raise BadRequest("secret token contains unallowed characters")
        self.webhook = {"url": url, "secret_token": secret, "allowed_updates": params.get("allowed_updates")}
        return True

    def _getWebhookInfo(self, params: Dict[str, Any]) -> Dict[str, Any]:  # noqa: N802
        return {"url": self.webhook.get("url", ""), "has_custom_certificate": False, "pending_update_count": 0}

    def _sendChatAction(self, params: Dict[str, Any]) -> bool:  # noqa: N802
        if "chat_id" not in params or params.get("action") not in {"typing", "upload_photo", "record_voice"}:
            raise BadRequest("wrong parameter action in request")
        return True

    def _answerCallbackQuery(self, params: Dict[str, Any]) -> bool:  # noqa: N802
        if not params.get("callback_query_id"):
            raise BadRequest("query is too old and response timeout expired or query ID is invalid")
        return True

    def _sendPhoto(self, params: Dict[str, Any]) -> Dict[str, Any]:  # noqa: N802
        if "chat_id" not in params or not params.get("photo"):
            raise BadRequest("there is no photo in the request")
        return {"message_id": next(self._ids), "date": int(time.time()), "chat": self._chat(params["chat_id"])}

    def _sendMessage(self, params: Dict[str, Any]) -> Dict[str, Any]:  # noqa: N802
        if "chat_id" not in params:
            raise BadRequest("chat_id is empty")
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise BadRequest("message text is empty")
        visible, error = telegram_visible_text(text, params.get("parse_mode"))
        if error:
            raise BadRequest(f"can't parse entities: {error}")
        if len(visible) > 4096:
            raise BadRequest("message is too long")
        markup = params.get("reply_markup")
        if markup is not None:
            keyboard = markup.get("inline_keyboard") if isinstance(markup, dict) else None
            if not isinstance(keyboard, list):
                raise BadRequest("can't parse reply keyboard markup JSON object")
            for row in keyboard:
                for button in row:
                    if not button.get("text"):
                        raise BadRequest("text buttons are unallowed in the inline keyboard")
                    data = button.get("callback_data")
                    if data is not None and not (1 <= len(str(data).encode()) <= 64):
                        raise BadRequest("BUTTON_DATA_INVALID")
        message = {"message_id": next(self._ids), "date": int(time.time()),
                   "chat": self._chat(params["chat_id"]), "text": visible}
        if markup is not None:
            message["reply_markup"] = markup
        return message

    @staticmethod
    def _chat(chat_id: Any) -> Dict[str, Any]:
        return {"id": int(chat_id), "type": "private", "first_name": "Pat"}

    # ---- what Telegram sends to the bot ------------------------------------------------
    def next_update_id(self) -> int:
        return next(self._updates)

    def text_update(self, chat_id: int, text: str, update_id: Optional[int] = None) -> Dict[str, Any]:
        return {"update_id": update_id or self.next_update_id(), "message": {
            "message_id": next(self._ids), "date": int(time.time()),
            "from": {"id": chat_id, "is_bot": False, "first_name": "Pat", "language_code": "en"},
            "chat": {"id": chat_id, "type": "private", "first_name": "Pat"}, "text": text}}

    def reaction_update(self, chat_id: int, message_id: int, emoji: List[str], old: Optional[List[str]] = None,
                        chat_type: str = "private") -> Dict[str, Any]:
        """A ``message_reaction`` update: the patient's reactions on ``message_id`` changed to ``emoji``."""
        def kinds(names: List[str]) -> List[Dict[str, str]]:
            return [{"type": "emoji", "emoji": name} for name in names]

        return {"update_id": self.next_update_id(), "message_reaction": {
            "chat": {"id": chat_id, "type": chat_type, "first_name": "Pat"}, "message_id": message_id,
            "user": {"id": chat_id, "is_bot": False, "first_name": "Pat"}, "date": int(time.time()),
            "old_reaction": kinds(old or []), "new_reaction": kinds(emoji)}}

    def click_update(self, chat_id: int, sent_message: Dict[str, Any], callback_data: str) -> Dict[str, Any]:
        """The callback query a click on a button of ``sent_message`` (a sendMessage result) produces."""
        return {"update_id": self.next_update_id(), "callback_query": {
            "id": str(next(self._ids) * 1000 + 7), "chat_instance": "-12345",
            "from": {"id": chat_id, "is_bot": False, "first_name": "Pat"},
            "message": dict(sent_message, **{"from": dict(self.BOT)}), "data": callback_data}}

    def deliver(self, update: Dict[str, Any], secret: Optional[str] = "<registered>",
                timeout: float = 120) -> requests.Response:
        """POST an update to the registered webhook as Telegram does."""
        headers = {"Content-Type": "application/json"}
        secret = self.webhook.get("secret_token") if secret == "<registered>" else secret
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        return requests.post(self.webhook["url"], data=json.dumps(update), headers=headers, timeout=timeout)


class BadRequest(Exception):
    pass


# ---------------------------------------------------------------------------------------
# Slack
# ---------------------------------------------------------------------------------------
class FakeSlack(_Server):
    """``/api/<method>``: auth.test and chat.postMessage, with Slack's error conventions
    (HTTP 200 and ``{"ok": false, "error": ...}``; 429 with Retry-After when told to)."""

    BOT_USER = "UBOT0001"
    TEAM = "T0CLINIC"

    def __init__(self, token: str = "xoxb-test-token") -> None:
        super().__init__()
        self.token = token
        self.rate_limited: Dict[str, int] = {}
        self._ts = itertools.count(1)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def handle(self, url: Any, headers: Any, body: bytes) -> Tuple[int, Dict[str, Any], Dict[str, str]]:
        if not url.path.startswith("/api/"):
            return 404, {"ok": False, "error": "unknown_method"}, {}
        method = url.path[len("/api/"):]
        try:
            params = _params(headers, body, url.query)
        except ValueError:
            return 200, {"ok": False, "error": "invalid_json"}, {}
        auth = headers.get("Authorization") or ""
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else params.get("token")
        if not token:
            return 200, {"ok": False, "error": "not_authed"}, {}
        if token != self.token:
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        self.record(method, params)
        if self.rate_limited.get(method):
            self.rate_limited[method] -= 1
            return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"}
        if method == "auth.test":
            return 200, {"ok": True, "url": "https://clinic.slack.com/", "team": "Clinic", "user": "assistant",
                         "team_id": self.TEAM, "user_id": self.BOT_USER, "bot_id": "B0BOT"}, {}
        if method == "chat.postMessage":
            answer = self._post_message(params)
            if answer.get("ok"):
                self.record_result(method, answer)
            return 200, answer, {}
        return 200, {"ok": False, "error": "unknown_method"}, {}

    def _post_message(self, params: Dict[str, Any]) -> Dict[str, Any]:
        channel = params.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        blocks = params.get("blocks")
        if not params.get("text") and not blocks:
            return {"ok": False, "error": "no_text"}
        if blocks is not None and not self._valid_blocks(blocks):
            return {"ok": False, "error": "invalid_blocks"}
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        if channel.startswith("U"):  # posting to a user id lands in the app's DM with them
            channel = "D" + channel[1:]
        return {"ok": True, "channel": channel, "ts": ts,
                "message": {"type": "message", "text": params.get("text", ""), "user": self.BOT_USER,
                            "bot_id": "B0BOT", "ts": ts, "blocks": blocks or []}}

    @staticmethod
    def _valid_blocks(blocks: Any) -> bool:
        if not isinstance(blocks, list) or len(blocks) > 50:
            return False
        for block in blocks:
            kind = block.get("type") if isinstance(block, dict) else None
            if kind == "section":
                text = block.get("text") or {}
                if text.get("type") not in ("mrkdwn", "plain_text") or not 1 <= len(text.get("text", "")) <= 3000:
                    return False
            elif kind == "actions":
                elements = block.get("elements")
                if not isinstance(elements, list) or not 1 <= len(elements) <= 25:
                    return False
                ids = [e.get("action_id") for e in elements]
                if len(set(ids)) != len(ids):
                    return False
                for e in elements:
                    text = e.get("text") or {}
                    if e.get("type") != "button" or text.get("type") != "plain_text":
                        return False
                    if not 1 <= len(text.get("text", "")) <= 75 or len(str(e.get("value", ""))) > 2000:
                        return False
            elif kind != "image":
                return False
        return True


def slack_headers(secret: str, body: bytes, timestamp: Optional[int] = None,
                  content_type: str = "application/json") -> Dict[str, str]:
    """Headers Slack sends with a request: its timestamp and v0 signature."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


_event_ids = itertools.count(1)


def slack_dm_event(user: str, text: str, channel: str = "D0PATIENT", event_id: Optional[str] = None,
                   team: str = FakeSlack.TEAM) -> Dict[str, Any]:
    """An Events API ``event_callback`` for a direct message to the app, as Slack sends it."""
    ts = f"{time.time():.6f}"
    return {
        "token": "legacy-verification-token", "team_id": team, "api_app_id": "A0APP", "type": "event_callback",
        "event_id": event_id or f"Ev{next(_event_ids):08d}", "event_time": int(time.time()),
        "authorizations": [{"team_id": team, "user_id": FakeSlack.BOT_USER, "is_bot": True}],
        "event": {"type": "message", "channel_type": "im", "channel": channel, "user": user, "text": text,
                  "ts": ts, "event_ts": ts, "team": team,
                  "blocks": [{"type": "rich_text", "elements": []}]},
    }


def slack_reaction(user: str, reaction: str, channel: str, ts: str, team: str = FakeSlack.TEAM,
                   item_type: str = "message") -> Dict[str, Any]:
    """An Events API ``event_callback`` for ``reaction_added`` on the message ``ts`` in ``channel``."""
    now = f"{time.time():.6f}"
    return {
        "token": "legacy-verification-token", "team_id": team, "api_app_id": "A0APP", "type": "event_callback",
        "event_id": f"Ev{next(_event_ids):08d}", "event_time": int(time.time()),
        "event": {"type": "reaction_added", "user": user, "reaction": reaction, "item_user": FakeSlack.BOT_USER,
                  "item": {"type": item_type, "channel": channel, "ts": ts}, "event_ts": now},
    }


def slack_click(user: str, value: str, channel: str = "D0PATIENT", team: str = FakeSlack.TEAM,
                trigger_id: Optional[str] = None) -> bytes:
    """The form body (``payload=<json>``) of a block_actions request for a button click."""
    from urllib.parse import urlencode

    payload = {
        "type": "block_actions", "team": {"id": team, "domain": "clinic"},
        "user": {"id": user, "username": "pat", "team_id": team},
        "api_app_id": "A0APP", "trigger_id": trigger_id or f"{next(_event_ids)}.1.abcdef",
        "channel": {"id": channel, "name": "directmessage"},
        "container": {"type": "message", "message_ts": "1.000001", "channel_id": channel},
        "actions": [{"type": "button", "action_id": "choice_0", "block_id": "b1", "value": value,
                     "text": {"type": "plain_text", "text": "title"}, "action_ts": f"{time.time():.6f}"}],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()

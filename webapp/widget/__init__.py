"""The website widget: the demo page, the embeddable ``/widget.js``, its history endpoint.

Routes (no prefix, so the snippet is short):
  GET  /                               demo page showing the chat, and the snippet to embed it
  GET  /widget.js, /widget.css         the widget; the script finds the app's URL from its own src
  GET  /static/vendor/socket.io.min.js socket.io-client, served from node_modules (``npm ci``)
  POST /widget/history                 {"token": ...} -> {"session_id", "messages"} (CORS: any origin)
  POST /widget/feedback                {"token", "answer", "rating": "up"|"down"} -> 204 (webapp/widget/feedback.py, storage/feedback.py)
  GET  /health                         "ok"
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, Dict
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from webapp.settings import WebSettings
from storage.ids import WIDGET_TOKEN_RE, widget_session_id
from clinic.settings import emergency_call_number
from storage.feedback import FeedbackStore, FeedbackUnavailable
from webapp.widget.feedback import FeedbackError, check as check_feedback, is_answer
from webapp.widget.history import HistoryStore, HistoryUnavailable, RateLimit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SOCKET_IO_DIST = Path("socket.io-client") / "dist" / "socket.io.min.js"
MAX_HISTORY_BODY = 4096
MAX_FEEDBACK_BODY = 16_384

CORS = {
    "Access-Control-Allow-Origin": "*",  # the token in the body is the credential; no cookies
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "600",
}
NO_STORE = {"Cache-Control": "no-store"}


def _origins(rasa_url: str) -> str:
    """The http(s) and ws(s) origins of Rasa's socket.io endpoint, for the page's CSP."""
    parts = urlsplit(rasa_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    ws = "wss" if parts.scheme == "https" else "ws"
    return f"{parts.scheme}://{parts.netloc} {ws}://{parts.netloc}"


def create_blueprint(settings: WebSettings) -> Blueprint:
    bp = Blueprint("widget")
    templates = Environment(loader=FileSystemLoader(str(HERE / "templates")),
                            autoescape=select_autoescape(["html"]))
    store = HistoryStore(settings.database_url, settings.widget_history_limit,
                         emergency_call_number(settings.emergency_number))
    limiter = RateLimit(settings.widget_history_per_minute)
    feedback = FeedbackStore(settings.database_url)
    node_modules = Path(settings.node_modules)
    if not node_modules.is_absolute():
        node_modules = ROOT / node_modules
    config = json.dumps({"socketUrl": settings.rasa_url, "socketPath": "/socket.io",
                         "title": settings.widget_title, "greeting": settings.widget_greeting,
                         "color": settings.widget_color, "suggestions": list(settings.widget_suggestions),
                         "emergencyNumber": settings.emergency_number}).replace("<", "\\u003c")
    csp = "; ".join([
        "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
        f"connect-src 'self' {_origins(settings.rasa_url)}".strip(),
        "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'", "object-src 'none'",
    ])

    # The patient page depends on settings only: rendered once.
    patient_page = templates.get_template("index.html").render(
        clinic_name=settings.clinic_name, clinic_phone=settings.clinic_phone,
        phone_link=emergency_call_number(settings.clinic_phone), title=settings.widget_title,
        emergency_number=settings.emergency_number, emergency_link=emergency_call_number(settings.emergency_number))

    @bp.listener("after_server_stop")
    async def close(_app: Any, _loop: Any) -> None:
        store.close()
        feedback.close()

    @bp.get("/health")
    async def health(_: Request) -> HTTPResponse:
        return response.text("ok")

    @bp.get("/")
    async def patient_page_route(_: Request) -> HTTPResponse:
        return response.html(patient_page, headers={"Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff",
                                            "Referrer-Policy": "no-referrer"})

    @bp.get("/widget.js")
    async def widget_js(_: Request) -> HTTPResponse:
        source = (HERE / "static" / "widget.js").read_text(encoding="utf-8")
        return response.text(source.replace("__WIDGET_DEFAULTS__", config, 1),
                             content_type="application/javascript; charset=utf-8",
                             headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"})

    @bp.get("/widget.css")
    async def widget_css(_: Request) -> HTTPResponse:
        return await response.file(HERE / "static" / "widget.css", mime_type="text/css; charset=utf-8",
                                   headers={"Cache-Control": "public, max-age=300"})

    @bp.get("/static/vendor/socket.io.min.js")
    async def socket_io_client(_: Request) -> HTTPResponse:
        path = node_modules / SOCKET_IO_DIST
        if not path.is_file():
            return response.text("socket.io-client is not installed: run `npm ci` in the repository",
                                 status=503)
        return await response.file(path, mime_type="application/javascript; charset=utf-8",
                                   headers={"Cache-Control": "public, max-age=3600"})

    @bp.route("/widget/history", methods=["OPTIONS"])
    async def history_preflight(_: Request) -> HTTPResponse:
        return response.empty(headers=CORS)

    @bp.route("/widget/feedback", methods=["OPTIONS"])
    async def feedback_preflight(_: Request) -> HTTPResponse:
        return response.empty(headers=CORS)

    def error(status: int, message: str) -> HTTPResponse:
        return response.json({"error": message}, status=status, headers={**CORS, **NO_STORE})

    def read_token_body(request: Request, limit: int, shape: str):
        """(payload, conversation id) of a widget request proven by the browser's token,
        or the error answer: rate-limited per client address, size-capped, JSON only."""
        if not limiter.allow(request.remote_addr or request.ip or "unknown"):
            return None, error(429, "too many requests; try again in a minute")
        body = request.body or b""
        if len(body) > limit:
            return None, error(413, "request too large")
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return None, error(400, f"the body must be JSON: {shape}")
        token = payload.get("token") if isinstance(payload, dict) else None
        if not isinstance(token, str) or not WIDGET_TOKEN_RE.fullmatch(token):
            return None, error(400, "token must be 32-128 characters of A-Z, a-z, 0-9, _ and -")
        return payload, widget_session_id(token)

    @bp.post("/widget/feedback")
    async def rate(request: Request) -> HTTPResponse:
        payload, found = read_token_body(request, MAX_FEEDBACK_BODY,
                                         '{"token": ..., "answer": ..., "rating": "up"}')
        if payload is None:
            return found
        try:
            rating, answer = check_feedback(payload)
            loop = asyncio.get_running_loop()
            if not is_answer(await loop.run_in_executor(None, store.read, found), answer):
                return error(400, "answer must be one of the assistant's answers in this conversation")
            await loop.run_in_executor(None, feedback.add, found, rating, answer, "socketio")
        except FeedbackError as exc:
            return error(400, str(exc))
        except (FeedbackUnavailable, HistoryUnavailable):  # the database is away: the patient is told
            return error(503, "feedback could not be saved just now")
        return response.empty(status=204, headers=CORS)

    @bp.post("/widget/history")
    async def history(request: Request) -> HTTPResponse:
        payload, found = read_token_body(request, MAX_HISTORY_BODY, '{"token": "..."}')
        if payload is None:
            return found
        session_id = found
        result: Dict[str, Any] = {"session_id": session_id, "messages": [], "history": "ok"}
        try:
            result["messages"] = await asyncio.get_running_loop().run_in_executor(None, store.read, session_id)
        except HistoryUnavailable:
            result["history"] = "unavailable"  # the visitor can still chat; the widget says so
        return response.json(result, headers={**CORS, **NO_STORE})

    return bp

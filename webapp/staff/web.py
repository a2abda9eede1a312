"""Request helpers every page of the staff console shares, and its middleware.

Every route but the login form and static files needs a logged-in user; the request
middleware (``guard``) enforces that (default deny) and checks the CSRF token of every
POST before a handler runs.
"""

from __future__ import annotations

from typing import Any, Optional
from urllib.parse import urlencode

from sanic import Request, response
from sanic.response import HTTPResponse

from storage.engine import run_sync
from storage.text import printable
from storage.time import utcnow as now
from webapp.settings import WebSettings
from webapp.staff import accounts, inputs, live
from webapp.staff.console import Console

COOKIE = "staff_session"
COOKIE_PATH = "/staff"
PUBLIC_ROUTES = frozenset({"login_form", "login_submit", "static"})
JSON_ROUTES = frozenset({"inbox_count", "conversation_live"})  # polled by live.js: no navigation to fill
MAX_BODY = 256 * 1024

NOTICES = {
    "logged_out": "You are logged out.",
    "expired": "Your session has ended. Please log in again.",
    "reviewed": "Marked as reviewed.",
    "unreviewed": "Marked as not reviewed.",
    "note": "Note saved.",
    "tag_added": "Tag added.",
    "tag_removed": "Tag removed.",
    "corrected": "Correction saved. It is part of the next training data export.",
    "correction_removed": "Correction removed.",
    "deleted": "The conversation and everything linked to it were deleted.",
    "status": "Status updated.",
    "assigned": "Assignment updated.",
    "request_note": "Note added.",
    "user_created": "Account created.",
    "user_updated": "Account updated.",
    "password": "Password changed.",
    "taken": "You hold this conversation now: the assistant stays silent until you hand it back.",
    "handed_back": "Handed back: the assistant answers this patient again.",
    "delivery_now": "Reply sent.",
    "delivery_next_request": "Reply stored: the patient's app receives it with its next message (REST).",
    "delivery_failed": "Reply stored in the conversation, but it could not be delivered to the patient's app.",
}


# --- helpers ------------------------------------------------------------------------

def console(request: Request) -> Console:
    return request.app.ctx.staff_console


def client_ip(request: Request) -> str:
    return (request.remote_addr or request.ip or "unknown")[:64]


def form(request: Request):
    return request.ctx.form


def field(request: Request, name: str, limit: int = 10_000) -> str:
    return inputs.field(form(request), name, limit)


def arg(request: Request, name: str, limit: int = 100) -> str:
    return inputs.arg(request.args, name, limit)


def positive_int(value: Any, default: int = 1) -> int:
    try:
        return max(1, min(int(value), 1_000_000_000))
    except (TypeError, ValueError):
        return default


def set_cookie(resp: HTTPResponse, settings: WebSettings, name: str, value: str,
               max_age: Optional[int] = None) -> None:
    resp.cookies[name] = value
    cookie = resp.cookies[name]
    cookie["path"] = COOKIE_PATH
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    if settings.staff_cookie_secure:
        cookie["secure"] = True
    if max_age is not None:
        cookie["max-age"] = max_age


def clear_cookie(resp: HTTPResponse, settings: WebSettings, name: str) -> None:
    set_cookie(resp, settings, name, "", max_age=0)


def redirect(location: str, msg: Optional[str] = None) -> HTTPResponse:
    if msg:
        location += ("&" if "?" in location else "?") + urlencode({"msg": msg})
    return response.redirect(location, status=303)


def page(request: Request, template: str, status: int = 200, nav: str = "",
         errors=(), **context: Any) -> HTTPResponse:
    codes = request.args.getlist("msg") if request.method == "GET" else []
    html = console(request).render(
        template, user=getattr(request.ctx, "user", None), csrf=getattr(request.ctx, "csrf", ""),
        nav=nav, inbox_waiting=getattr(request.ctx, "inbox_waiting", 0),
        notices=[NOTICES[c] for c in codes or [] if c in NOTICES], errors=list(errors), **context)
    # the last guard: whatever stored text reached the page, it encodes as UTF-8
    return response.html(printable(html), status=status)


def error(request: Request, status: int, heading: str, message: str, back: str = "") -> HTTPResponse:
    return page(request, "error.html", status=status, heading=heading, message=message, back=back)


def forbidden(request: Request, message: str = "This needs an admin account.") -> HTTPResponse:
    return error(request, 403, "Not allowed", message)


def download(body: str, filename: str, content_type: str) -> HTTPResponse:
    return response.raw(printable(body).encode("utf-8"), content_type=content_type,
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def stamp() -> str:
    return now().strftime("%Y%m%d-%H%M%S")


# --- middleware ---------------------------------------------------------------------

async def guard(request: Request) -> Optional[HTTPResponse]:
    staff = console(request)
    request.ctx.user = None
    request.ctx.csrf = ""
    request.ctx.form = {}
    name = request.route.name.rsplit(".", 1)[-1] if request.route else ""
    if request.method == "POST":
        if len(request.body or b"") > MAX_BODY:
            return error(request, 413, "Too large", "The form was too large.")
        try:
            request.ctx.form = request.form
        except Exception:  # undecodable or malformed body
            return error(request, 400, "Bad request", "The form could not be read.")
    if name in PUBLIC_ROUTES:
        return None
    token = request.cookies.get(COOKIE)
    session = None
    if token:
        session = await run_sync(staff.tx, accounts.load_session, token, staff.settings)
    if session is None:
        if request.method in ("GET", "HEAD"):
            target = request.path + (f"?{request.query_string}" if request.query_string else "")
            query = {"next": target}
            if token:
                query["msg"] = "expired"
            resp = response.redirect("/staff/login?" + urlencode(query), status=303)
        else:
            resp = error(request, 401, "Not logged in", "Please log in first.", back="/staff/login")
        if token:
            clear_cookie(resp, staff.settings, COOKIE)
        return resp
    request.ctx.user = session.user
    request.ctx.csrf = session.csrf_token
    if request.method == "GET" and name not in JSON_ROUTES:  # the waiting count in the navigation
        request.ctx.inbox_waiting = await run_sync(staff.tx, live.waiting_count)
    if request.method not in ("GET", "HEAD"):
        sent = field(request, "csrf_token", 200)
        if not sent or not inputs.same_token(sent, session.csrf_token):
            return error(request, 403, "Form expired",
                         "The form's security token did not match. Reload the page and try again.")
    if not all(inputs.valid_id(v) for v in (request.match_info or {}).values() if isinstance(v, int)):
        return error(request, 404, "Not found", "There is no such page.")
    return None


async def security_headers(request: Request, resp: HTTPResponse) -> None:
    resp.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; connect-src 'self'; "
        "form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'")
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "same-origin"
    resp.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    is_static = request.route is not None and request.route.name.endswith(".static")
    if not is_static:
        resp.headers["Cache-Control"] = "no-store"

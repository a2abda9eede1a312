"""Routes of the staff console (Sanic blueprint under /staff).

Every route but the login form and static files needs a logged-in user; the
request middleware enforces that (default deny) and checks the CSRF token of
every POST before a handler runs.
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any, Optional
from urllib.parse import urlencode

import sqlalchemy as sa
from sanic import Blueprint, Request, response
from sanic.response import HTTPResponse

from storage.text import printable
from webapp.settings import WebSettings
from webapp.staff import accounts, dashboard, inputs, queue
from webapp.staff import conversations as convs
from webapp.staff import tables as t
from webapp.staff.accounts import AccountError
from webapp.staff.console import Console
from webapp.staff.conversations import InputError
from storage.engine import run_sync
from storage.time import utcnow as now
from webapp.staff.audit import audit
from webapp.staff.files import static

COOKIE = "staff_session"
LOGIN_COOKIE = "staff_login_csrf"
COOKIE_PATH = "/staff"
PUBLIC_ROUTES = frozenset({"login_form", "login_submit", "static"})
MAX_BODY = 256 * 1024
TOKEN_RE = re.compile(r"^[A-Za-z0-9_\-]{20,100}$")
AUDIT_PAGE = 100

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
}


# --- helpers ------------------------------------------------------------------------

def _console(request: Request) -> Console:
    return request.app.ctx.staff_console


def _ip(request: Request) -> str:
    return (request.remote_addr or request.ip or "unknown")[:64]


def _form(request: Request):
    return request.ctx.form


def _field(request: Request, name: str, limit: int = 10_000) -> str:
    return inputs.field(_form(request), name, limit)


def _arg(request: Request, name: str, limit: int = 100) -> str:
    return inputs.arg(request.args, name, limit)


def _int(value: Any, default: int = 1) -> int:
    try:
        return max(1, min(int(value), 1_000_000_000))
    except (TypeError, ValueError):
        return default


def _set_cookie(resp: HTTPResponse, settings: WebSettings, name: str, value: str,
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


def _clear_cookie(resp: HTTPResponse, settings: WebSettings, name: str) -> None:
    _set_cookie(resp, settings, name, "", max_age=0)


def _safe_next(value: Optional[str]) -> str:
    if (isinstance(value, str) and value.startswith("/staff/") and not value.startswith("/staff/login")
            and "\\" not in value and not any(ch in value for ch in "\r\n\t") and len(value) < 2000):
        return value
    return "/staff/"


def _redirect(location: str, msg: Optional[str] = None) -> HTTPResponse:
    if msg:
        location += ("&" if "?" in location else "?") + urlencode({"msg": msg})
    return response.redirect(location, status=303)


def _page(request: Request, template: str, status: int = 200, nav: str = "",
          errors=(), **context: Any) -> HTTPResponse:
    codes = request.args.getlist("msg") if request.method == "GET" else []
    html = _console(request).render(
        template, user=getattr(request.ctx, "user", None), csrf=getattr(request.ctx, "csrf", ""),
        nav=nav, notices=[NOTICES[c] for c in codes or [] if c in NOTICES], errors=list(errors), **context)
    # the last guard: whatever stored text reached the page, it encodes as UTF-8
    return response.html(printable(html), status=status)


def _error(request: Request, status: int, heading: str, message: str, back: str = "") -> HTTPResponse:
    return _page(request, "error.html", status=status, heading=heading, message=message, back=back)


def _forbidden(request: Request) -> HTTPResponse:
    return _error(request, 403, "Not allowed", "This needs an admin account.")


def _download(body: str, filename: str, content_type: str) -> HTTPResponse:
    return response.raw(printable(body).encode("utf-8"), content_type=content_type,
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _stamp() -> str:
    return now().strftime("%Y%m%d-%H%M%S")


# --- middleware ---------------------------------------------------------------------

async def guard(request: Request) -> Optional[HTTPResponse]:
    console = _console(request)
    request.ctx.user = None
    request.ctx.csrf = ""
    request.ctx.form = {}
    name = request.route.name.rsplit(".", 1)[-1] if request.route else ""
    if request.method == "POST":
        if len(request.body or b"") > MAX_BODY:
            return _error(request, 413, "Too large", "The form was too large.")
        try:
            request.ctx.form = request.form
        except Exception:  # undecodable or malformed body
            return _error(request, 400, "Bad request", "The form could not be read.")
    if name in PUBLIC_ROUTES:
        return None
    token = request.cookies.get(COOKIE)
    session = None
    if token:
        session = await run_sync(console.tx, accounts.load_session, token, console.settings)
    if session is None:
        if request.method in ("GET", "HEAD"):
            target = request.path + (f"?{request.query_string}" if request.query_string else "")
            query = {"next": target}
            if token:
                query["msg"] = "expired"
            resp = response.redirect("/staff/login?" + urlencode(query), status=303)
        else:
            resp = _error(request, 401, "Not logged in", "Please log in first.", back="/staff/login")
        if token:
            _clear_cookie(resp, console.settings, COOKIE)
        return resp
    request.ctx.user = session.user
    request.ctx.csrf = session.csrf_token
    if request.method not in ("GET", "HEAD"):
        sent = _field(request, "csrf_token", 200)
        if not sent or not inputs.same_token(sent, session.csrf_token):
            return _error(request, 403, "Form expired",
                          "The form's security token did not match. Reload the page and try again.")
    if not all(inputs.valid_id(v) for v in (request.match_info or {}).values() if isinstance(v, int)):
        return _error(request, 404, "Not found", "There is no such page.")
    return None


async def security_headers(request: Request, resp: HTTPResponse) -> None:
    resp.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'")
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "same-origin"
    resp.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    is_static = request.route is not None and request.route.name.endswith(".static")
    if not is_static:
        resp.headers["Cache-Control"] = "no-store"


# --- login --------------------------------------------------------------------------

async def login_form(request: Request) -> HTTPResponse:
    console = _console(request)
    token = request.cookies.get(COOKIE)
    if token and await run_sync(console.tx, accounts.load_session, token, console.settings):
        return _redirect("/staff/")
    return _login_page(request, 200)


def _login_page(request: Request, status: int, errors=(), username: str = "",
                headers: Optional[dict] = None) -> HTTPResponse:
    console = _console(request)
    login_csrf = request.cookies.get(LOGIN_COOKIE) or ""
    if not TOKEN_RE.match(login_csrf):
        login_csrf = secrets.token_urlsafe(32)
    nxt = _safe_next(_arg(request, "next", 2000) if request.method == "GET" else _field(request, "next", 2000))
    resp = _page(request, "login.html", status=status, errors=errors, login_csrf=login_csrf,
                 next=nxt, username=username)
    _set_cookie(resp, console.settings, LOGIN_COOKIE, login_csrf)
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


async def login_submit(request: Request) -> HTTPResponse:
    console = _console(request)
    cookie = request.cookies.get(LOGIN_COOKIE) or ""
    sent = _field(request, "csrf_token", 200)
    if not (cookie and sent and inputs.same_token(cookie, sent)):
        return _login_page(request, 403, ["The login form expired. Please try again."])
    username = _field(request, "username", 200)
    password = _field(request, "password", accounts.MAX_PASSWORD_LENGTH + 1)
    result = await run_sync(console.tx, accounts.login, username, password, _ip(request), console.settings)
    if result.throttled:
        minutes = console.settings.staff_login_window_minutes
        return _login_page(request, 429, [f"Too many failed logins. Try again in {minutes} minutes."],
                           username=username[:100], headers={"Retry-After": str(minutes * 60)})
    if not result.token:
        return _login_page(request, 401, ["Wrong user name or password."], username=username[:100])
    resp = _redirect(_safe_next(_field(request, "next", 2000)))
    _set_cookie(resp, console.settings, COOKIE, result.token,
                max_age=console.settings.staff_session_minutes * 60)
    _clear_cookie(resp, console.settings, LOGIN_COOKIE)
    return resp


async def logout(request: Request) -> HTTPResponse:
    console = _console(request)
    await run_sync(console.tx, accounts.logout, request.cookies.get(COOKIE), request.ctx.user, _ip(request))
    resp = _redirect("/staff/login", "logged_out")
    _clear_cookie(resp, console.settings, COOKIE)
    return resp


# --- conversations --------------------------------------------------------------------

async def conversation_list(request: Request) -> HTTPResponse:
    console = _console(request)
    filters = convs.parse_filters(request.args)
    await run_sync(console.refresh)

    def load(conn):
        return (convs.list_conversations(conn, filters, console.settings.low_confidence,
                                         console.settings.staff_page_size),
                convs.filter_choices(conn))

    result, choices = await run_sync(console.tx, load)
    return _page(request, "conversations.html", nav="conversations", errors=filters.errors,
                 filters=filters, result=result, choices=choices,
                 page_link=lambda p: "/staff/?" + filters.query_string(page=p),
                 export_params=filters.params(page=1), export_max=console.settings.staff_export_max)


async def _show_conversation(request: Request, conv_id: int, reveal: bool = False, errors=(),
                             status: int = 200, page: Optional[int] = None) -> HTTPResponse:
    console = _console(request)
    if page is None:
        page = _int(request.args.get("page"))
    low = console.settings.low_confidence

    def load(conn):
        conv = convs.get_conversation(conn, conv_id)
        if conv is None:
            return None, None, []
        data = convs.transcript(conn, conv, reveal, low, page)
        tags = [r[0] for r in conn.execute(sa.select(t.tags.c.tag).distinct().order_by(t.tags.c.tag))]
        if reveal:
            audit(conn, request.ctx.user.username, "reveal", convs.conversation_target(conv.sender_id),
                  "transcript", _ip(request))
        return conv, data, tags

    conv, data, known_tags = await run_sync(console.tx, load)
    if conv is None or data["total"] == 0:
        return _error(request, 404, "Not found", "There is no such conversation (it may have been deleted).",
                      back="/staff/")
    return _page(request, "conversation.html", status=status, nav="conversations", errors=errors,
                 conv=conv, t=data, revealed=reveal, known_tags=known_tags,
                 started=convs.fmt_ts(conv.started_at), last=convs.fmt_ts(conv.last_at),
                 low=conv.min_confidence is not None and conv.min_confidence < low,
                 intents=console.intents, entities=console.entities,
                 page_link=lambda p: f"/staff/conversations/{conv.id}?page={p}")


async def conversation(request: Request, conv_id: int) -> HTTPResponse:
    return await _show_conversation(request, conv_id)


async def conversation_reveal(request: Request, conv_id: int) -> HTTPResponse:
    if not request.ctx.user.is_admin:
        return _forbidden(request)
    return await _show_conversation(request, conv_id, reveal=True, page=_int(_field(request, "page", 20)))


async def _conversation_action(request: Request, conv_id: int, action, msg: str,
                               anchor: str = "") -> HTTPResponse:
    """Run ``action(conn, sender_id)`` on a conversation, then back to it (or its page with the error)."""
    console = _console(request)

    def run(conn):
        conv = convs.get_conversation(conn, conv_id)
        if conv is None:
            return False
        action(conn, conv.sender_id)
        return True

    try:
        found = await run_sync(console.tx, run)
    except InputError as exc:
        return await _show_conversation(request, conv_id, errors=[str(exc)], status=400,
                                        page=_int(_field(request, "page", 20)))
    if not found:
        return _error(request, 404, "Not found", "There is no such conversation.", back="/staff/")
    page = _int(_field(request, "page", 20))
    location = f"/staff/conversations/{conv_id}" + (f"?page={page}" if page > 1 else "")
    return _redirect(location, msg) if not anchor else response.redirect(
        f"{location}{'&' if '?' in location else '?'}{urlencode({'msg': msg})}#{anchor}", status=303)


async def conversation_review(request: Request, conv_id: int) -> HTTPResponse:
    reviewed = _field(request, "reviewed", 5) == "1"
    user = request.ctx.user.username
    return await _conversation_action(
        request, conv_id, lambda conn, sender: convs.set_reviewed(conn, sender, reviewed, user),
        "reviewed" if reviewed else "unreviewed")


async def conversation_note(request: Request, conv_id: int) -> HTTPResponse:
    note, user = _field(request, "note", convs.MAX_NOTE + 1), request.ctx.user.username
    return await _conversation_action(
        request, conv_id, lambda conn, sender: convs.save_note(conn, sender, note, user), "note")


async def conversation_tag_add(request: Request, conv_id: int) -> HTTPResponse:
    tag, user = _field(request, "tag", 200), request.ctx.user.username
    return await _conversation_action(
        request, conv_id, lambda conn, sender: convs.add_tag(conn, sender, tag, user), "tag_added")


async def conversation_tag_remove(request: Request, conv_id: int) -> HTTPResponse:
    tag, user = _field(request, "tag", 200), request.ctx.user.username
    return await _conversation_action(
        request, conv_id, lambda conn, sender: convs.remove_tag(conn, sender, tag, user), "tag_removed")


async def conversation_correct(request: Request, conv_id: int) -> HTTPResponse:
    console = _console(request)
    event_id = _int(_field(request, "event_id", 20), default=0)
    intent = _field(request, "intent", 300).strip()
    text = _field(request, "text", convs.MAX_EXAMPLE + 10)
    user = request.ctx.user.username
    return await _conversation_action(
        request, conv_id,
        lambda conn, sender: convs.correct_message(conn, sender, event_id, intent, text, user,
                                                   console.intents, console.entities),
        "corrected", anchor=f"event-{event_id}")


async def conversation_delete(request: Request, conv_id: int) -> HTTPResponse:
    if not request.ctx.user.is_admin:
        return _forbidden(request)
    if _field(request, "confirm", 10) != "yes":
        return await _show_conversation(request, conv_id, status=400,
                                        errors=["Tick the confirmation box to delete the conversation."])
    console = _console(request)
    user, ip = request.ctx.user.username, _ip(request)

    def run():
        conv = console.tx(convs.get_conversation, conv_id)
        if conv is None:
            return False
        convs.delete_conversation(console.engine, conv.sender_id, user, ip)
        return True

    if not await run_sync(run):
        return _error(request, 404, "Not found", "There is no such conversation.", back="/staff/")
    return _redirect("/staff/", "deleted")


async def export_conversations(request: Request) -> HTTPResponse:
    console = _console(request)
    fmt = _field(request, "format", 10)
    if fmt not in ("csv", "json"):
        return _error(request, 400, "Unknown format", "Export as CSV or JSON.", back="/staff/")
    reveal = _field(request, "reveal", 5) == "1"
    if reveal and not request.ctx.user.is_admin:
        return _forbidden(request)
    filters = convs.parse_filters(_form(request))
    limit = console.settings.staff_export_max
    low = console.settings.low_confidence
    await run_sync(console.refresh)
    user, ip = request.ctx.user.username, _ip(request)

    def run(conn):
        total, senders = convs.matching_senders(conn, filters, low, limit)
        if total > limit:
            return total, None
        body = (convs.export_csv(conn, senders, reveal) if fmt == "csv"
                else convs.export_json(conn, senders, reveal, low))
        audit(conn, user, "export_conversations", None,
              json.dumps({"format": fmt, "conversations": total, "personal_data": reveal,
                          "filters": filters.params(page=1)}, ensure_ascii=False)[:2000], ip)
        if reveal:
            audit(conn, user, "reveal", None, f"export of {total} conversations", ip)
        return total, body

    total, body = await run_sync(console.tx, run)
    if body is None:
        return _error(request, 400, "Too many conversations",
                      f"{total} conversations match, more than the export limit of {limit}. "
                      "Narrow the filters (for example by date) and export in parts.",
                      back="/staff/?" + filters.query_string(page=1))
    if fmt == "csv":
        return _download(body, f"conversations-{_stamp()}.csv", "text/csv; charset=utf-8")
    return _download(body, f"conversations-{_stamp()}.json", "application/json")


# --- corrections ----------------------------------------------------------------------

async def corrections_page(request: Request) -> HTTPResponse:
    items = await run_sync(_console(request).tx, convs.list_corrections)
    return _page(request, "corrections.html", nav="corrections", items=items)


async def correction_delete(request: Request, correction_id: int) -> HTTPResponse:
    try:
        await run_sync(_console(request).tx, convs.delete_correction, correction_id, request.ctx.user.username)
    except InputError as exc:
        return _error(request, 404, "Not found", str(exc), back="/staff/corrections")
    return _redirect("/staff/corrections", "correction_removed")


async def corrections_export(request: Request) -> HTTPResponse:
    user, ip = request.ctx.user.username, _ip(request)

    def run(conn):
        body, count = convs.training_data_yaml(conn)
        audit(conn, user, "export_training_data", None, f"examples={count}", ip)
        return body

    body = await run_sync(_console(request).tx, run)
    return _download(body, f"nlu-corrections-{_stamp()}.yml", "application/x-yaml; charset=utf-8")


# --- request queue ----------------------------------------------------------------------

async def requests_page(request: Request) -> HTTPResponse:
    console = _console(request)
    status, kind, assigned = _arg(request, "status"), _arg(request, "kind"), _arg(request, "assigned")
    errors = []
    if status and status not in t.REQUEST_STATUSES:
        errors.append("Unknown status; it was ignored.")
        status = ""
    if kind and kind not in t.REQUEST_KINDS:
        errors.append("Unknown kind; it was ignored.")
        kind = ""
    page = _int(request.args.get("page"))
    await run_sync(console.refresh)

    def load(conn):
        if not queue.available(conn):
            return False, {"items": [], "total": 0, "page": 1, "pages": 1, "counts": {}}, []
        return (True, queue.list_requests(conn, status, kind, assigned, page, console.settings.staff_page_size),
                accounts.active_usernames(conn))

    available, result, staff = await run_sync(console.tx, load)
    params = {k: v for k, v in (("status", status), ("kind", kind), ("assigned", assigned)) if v}
    return _page(request, "requests.html", nav="requests", errors=errors, available=available,
                 result=result, staff=staff, status_filter=status, kind=kind, assigned=assigned,
                 statuses=t.REQUEST_STATUSES, kinds=t.REQUEST_KINDS,
                 page_link=lambda p: "/staff/requests?" + urlencode({**params, "page": p}))


async def _show_request(request: Request, request_id: int, reveal: bool = False, errors=(),
                        status: int = 200) -> HTTPResponse:
    console = _console(request)
    await run_sync(console.refresh)

    def load(conn):
        if not queue.available(conn):
            return None, []
        found = queue.get_request(conn, request_id, reveal)
        if found and reveal:
            audit(conn, request.ctx.user.username, "reveal", f"request:{request_id}", "contact details",
                  _ip(request))
        return found, accounts.active_usernames(conn)

    found, staff = await run_sync(console.tx, load)
    if found is None:
        return _error(request, 404, "Not found", "There is no such request.", back="/staff/requests")
    return _page(request, "request.html", status=status, nav="requests", errors=errors, r=found,
                 revealed=reveal, staff=staff, statuses=t.REQUEST_STATUSES)


async def request_detail(request: Request, request_id: int) -> HTTPResponse:
    return await _show_request(request, request_id)


async def request_reveal(request: Request, request_id: int) -> HTTPResponse:
    if not request.ctx.user.is_admin:
        return _forbidden(request)
    return await _show_request(request, request_id, reveal=True)


async def _request_action(request: Request, request_id: int, action, msg: str) -> HTTPResponse:
    console = _console(request)

    def run(conn):
        if not queue.available(conn):
            raise InputError("No such request.")
        action(conn)

    try:
        await run_sync(console.tx, run)
    except InputError as exc:
        return await _show_request(request, request_id, errors=[str(exc)], status=400)
    return _redirect(f"/staff/requests/{request_id}", msg)


async def request_status(request: Request, request_id: int) -> HTTPResponse:
    status, user = _field(request, "status", 20), request.ctx.user.username
    return await _request_action(request, request_id,
                                 lambda conn: queue.update_request(conn, request_id, user, status=status), "status")


async def request_assign(request: Request, request_id: int) -> HTTPResponse:
    who, user = _field(request, "assigned_to", 100).strip(), request.ctx.user.username
    return await _request_action(
        request, request_id,
        lambda conn: queue.update_request(conn, request_id, user, assigned_to=who or None, unassign=not who),
        "assigned")


async def request_note(request: Request, request_id: int) -> HTTPResponse:
    body, user = _field(request, "body", queue.MAX_NOTE + 1), request.ctx.user.username
    return await _request_action(request, request_id,
                                 lambda conn: queue.add_note(conn, request_id, user, body), "request_note")


# --- dashboard ----------------------------------------------------------------------------

async def dashboard_page(request: Request) -> HTTPResponse:
    console = _console(request)
    first, last, errors = dashboard.parse_range(request.args)
    await run_sync(console.refresh)
    figures = await run_sync(console.tx, dashboard.figures, first, last)
    return _page(request, "dashboard.html", nav="dashboard", errors=errors, f=figures, first=first, last=last)


# --- accounts -------------------------------------------------------------------------------

async def users_page(request: Request, errors=(), status: int = 200) -> HTTPResponse:
    if not request.ctx.user.is_admin:
        return _forbidden(request)
    users = await run_sync(_console(request).tx, accounts.list_users)
    return _page(request, "users.html", status=status, nav="users", errors=errors, users=users,
                 roles=t.ROLES, min_password=accounts.MIN_PASSWORD_LENGTH)


async def user_create(request: Request) -> HTTPResponse:
    if not request.ctx.user.is_admin:
        return _forbidden(request)
    try:
        await run_sync(_console(request).tx, accounts.create_user, _field(request, "username", 200),
                       _field(request, "password", accounts.MAX_PASSWORD_LENGTH + 1),
                       _field(request, "role", 20), request.ctx.user.username, ip=_ip(request))
    except AccountError as exc:
        return await users_page(request, errors=[str(exc)], status=400)
    return _redirect("/staff/users", "user_created")


async def user_update(request: Request, user_id: int) -> HTTPResponse:
    if not request.ctx.user.is_admin:
        return _forbidden(request)
    active = _field(request, "active", 5)
    password = _field(request, "password", accounts.MAX_PASSWORD_LENGTH + 1)
    try:
        await run_sync(_console(request).tx, accounts.update_user, user_id, request.ctx.user,
                       role=_field(request, "role", 20) or None,
                       active=None if active not in ("0", "1") else active == "1",
                       password=password or None, ip=_ip(request))
    except AccountError as exc:
        return await users_page(request, errors=[str(exc)], status=400)
    return _redirect("/staff/users", "user_updated")


async def audit_page(request: Request) -> HTTPResponse:
    if not request.ctx.user.is_admin:
        return _forbidden(request)
    action = _arg(request, "action", 40)
    page = _int(request.args.get("page"))

    def load(conn):
        a = t.audit_log.c
        conds = [a.action == action] if action else []
        total = conn.execute(sa.select(sa.func.count()).select_from(t.audit_log).where(*conds)).scalar_one()
        pages = max(1, -(-total // AUDIT_PAGE))
        entries = conn.execute(sa.select(t.audit_log).where(*conds).order_by(a.id.desc())
                               .limit(AUDIT_PAGE).offset((min(page, pages) - 1) * AUDIT_PAGE)).all()
        actions = [r[0] for r in conn.execute(sa.select(a.action).distinct().order_by(a.action))]
        return total, pages, entries, actions

    total, pages, entries, actions = await run_sync(_console(request).tx, load)
    return _page(request, "audit.html", nav="audit", total=total, pages=pages, page=min(page, pages),
                 entries=entries, actions=actions, action=action,
                 page_link=lambda p: "/staff/audit?" + urlencode({**({"action": action} if action else {}), "page": p}))


async def account_page(request: Request, errors=(), status: int = 200) -> HTTPResponse:
    return _page(request, "account.html", status=status, errors=errors, min_password=accounts.MIN_PASSWORD_LENGTH)


async def account_password(request: Request) -> HTTPResponse:
    try:
        await run_sync(_console(request).tx, accounts.change_own_password, request.ctx.user,
                       _field(request, "current", accounts.MAX_PASSWORD_LENGTH + 1),
                       _field(request, "new", accounts.MAX_PASSWORD_LENGTH + 1), _ip(request))
    except AccountError as exc:
        return await account_page(request, errors=[str(exc)], status=400)
    # other sessions of this account stay valid until they expire; this one too
    return _redirect("/staff/account", "password")


# --- the blueprint ------------------------------------------------------------------------------

def create_blueprint(settings: WebSettings) -> Blueprint:
    console = Console(settings)
    bp = Blueprint("staff", url_prefix="/staff")

    async def start(app, loop):
        app.ctx.staff_console = console
        await run_sync(console.start)

    async def stop(app, loop):
        console.stop()

    bp.listener("before_server_start")(start)
    bp.listener("after_server_stop")(stop)
    bp.middleware(guard, "request")
    bp.middleware(security_headers, "response")

    routes = [
        ("/login", login_form, ["GET"]),
        ("/login", login_submit, ["POST"]),
        ("/logout", logout, ["POST"]),
        ("/", conversation_list, ["GET"]),
        ("/conversations/<conv_id:int>", conversation, ["GET"]),
        ("/conversations/<conv_id:int>/reveal", conversation_reveal, ["POST"]),
        ("/conversations/<conv_id:int>/review", conversation_review, ["POST"]),
        ("/conversations/<conv_id:int>/note", conversation_note, ["POST"]),
        ("/conversations/<conv_id:int>/tags", conversation_tag_add, ["POST"]),
        ("/conversations/<conv_id:int>/tags/remove", conversation_tag_remove, ["POST"]),
        ("/conversations/<conv_id:int>/correct", conversation_correct, ["POST"]),
        ("/conversations/<conv_id:int>/delete", conversation_delete, ["POST"]),
        ("/export/conversations", export_conversations, ["POST"]),
        ("/corrections", corrections_page, ["GET"]),
        ("/corrections/<correction_id:int>/delete", correction_delete, ["POST"]),
        ("/corrections/export", corrections_export, ["POST"]),
        ("/requests", requests_page, ["GET"]),
        ("/requests/<request_id:int>", request_detail, ["GET"]),
        ("/requests/<request_id:int>/reveal", request_reveal, ["POST"]),
        ("/requests/<request_id:int>/status", request_status, ["POST"]),
        ("/requests/<request_id:int>/assign", request_assign, ["POST"]),
        ("/requests/<request_id:int>/note", request_note, ["POST"]),
        ("/dashboard", dashboard_page, ["GET"]),
        ("/users", users_page, ["GET"]),
        ("/users", user_create, ["POST"]),
        ("/users/<user_id:int>", user_update, ["POST"]),
        ("/audit", audit_page, ["GET"]),
        ("/account", account_page, ["GET"]),
        ("/account/password", account_password, ["POST"]),
        ("/static/<name>", static, ["GET"]),
    ]
    for uri, handler, methods in routes:
        bp.add_route(handler, uri, methods=methods, name=handler.__name__)
    return bp

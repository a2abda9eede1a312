"""Pages of one's own session: logging in and out, and one's account (the password)."""

from __future__ import annotations

import re
import secrets
from typing import Optional

from sanic import Request
from sanic.response import HTTPResponse

from storage.engine import run_sync
from webapp.staff import accounts, inputs, web
from webapp.staff.accounts import AccountError

LOGIN_COOKIE = "staff_login_csrf"
TOKEN_RE = re.compile(r"^[A-Za-z0-9_\-]{20,100}$")


def _safe_next(value: Optional[str]) -> str:
    if (isinstance(value, str) and value.startswith("/staff/") and not value.startswith("/staff/login")
            and "\\" not in value and not any(ch in value for ch in "\r\n\t") and len(value) < 2000):
        return value
    return "/staff/"


# --- login --------------------------------------------------------------------------

async def login_form(request: Request) -> HTTPResponse:
    console = web.console(request)
    token = request.cookies.get(web.COOKIE)
    if token and await run_sync(console.tx, accounts.load_session, token, console.settings):
        return web.redirect("/staff/")
    return _login_page(request, 200)


def _login_page(request: Request, status: int, errors=(), username: str = "",
                headers: Optional[dict] = None) -> HTTPResponse:
    console = web.console(request)
    login_csrf = request.cookies.get(LOGIN_COOKIE) or ""
    if not TOKEN_RE.match(login_csrf):
        login_csrf = secrets.token_urlsafe(32)
    nxt = _safe_next(web.arg(request, "next", 2000) if request.method == "GET"
                     else web.field(request, "next", 2000))
    resp = web.page(request, "login.html", status=status, errors=errors, login_csrf=login_csrf,
                    next=nxt, username=username)
    web.set_cookie(resp, console.settings, LOGIN_COOKIE, login_csrf)
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


async def login_submit(request: Request) -> HTTPResponse:
    console = web.console(request)
    cookie = request.cookies.get(LOGIN_COOKIE) or ""
    sent = web.field(request, "csrf_token", 200)
    if not (cookie and sent and inputs.same_token(cookie, sent)):
        return _login_page(request, 403, ["The login form expired. Please try again."])
    username = web.field(request, "username", 200)
    password = web.field(request, "password", accounts.MAX_PASSWORD_LENGTH + 1)
    result = await run_sync(console.tx, accounts.login, username, password, web.client_ip(request),
                            console.settings)
    if result.throttled:
        minutes = console.settings.staff_login_window_minutes
        return _login_page(request, 429, [f"Too many failed logins. Try again in {minutes} minutes."],
                           username=username[:100], headers={"Retry-After": str(minutes * 60)})
    if not result.token:
        return _login_page(request, 401, ["Wrong user name or password."], username=username[:100])
    resp = web.redirect(_safe_next(web.field(request, "next", 2000)))
    web.set_cookie(resp, console.settings, web.COOKIE, result.token,
                   max_age=console.settings.staff_session_minutes * 60)
    web.clear_cookie(resp, console.settings, LOGIN_COOKIE)
    return resp


async def logout(request: Request) -> HTTPResponse:
    console = web.console(request)
    await run_sync(console.tx, accounts.logout, request.cookies.get(web.COOKIE), request.ctx.user,
                   web.client_ip(request))
    resp = web.redirect("/staff/login", "logged_out")
    web.clear_cookie(resp, console.settings, web.COOKIE)
    return resp


# --- one's account --------------------------------------------------------------------

async def account_page(request: Request, errors=(), status: int = 200) -> HTTPResponse:
    return web.page(request, "account.html", status=status, errors=errors,
                    min_password=accounts.MIN_PASSWORD_LENGTH)


async def account_password(request: Request) -> HTTPResponse:
    try:
        await run_sync(web.console(request).tx, accounts.change_own_password, request.ctx.user,
                       web.field(request, "current", accounts.MAX_PASSWORD_LENGTH + 1),
                       web.field(request, "new", accounts.MAX_PASSWORD_LENGTH + 1), web.client_ip(request))
    except AccountError as exc:
        return await account_page(request, errors=[str(exc)], status=400)
    # other sessions of this account stay valid until they expire; this one too
    return web.redirect("/staff/account", "password")

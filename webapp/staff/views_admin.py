"""The dashboard and the admin pages: staff accounts and the audit log."""

from __future__ import annotations

from urllib.parse import urlencode

from sanic import Request
from sanic.response import HTTPResponse

from storage.engine import run_sync
from webapp.staff import accounts, dashboard, web
from webapp.staff.accounts import AccountError
from webapp.staff.audit import read_log
from webapp.staff.tables import ROLES


async def dashboard_page(request: Request) -> HTTPResponse:
    console = web.console(request)
    first, last, errors = dashboard.parse_range(request.args)
    await run_sync(console.refresh)
    figures = await run_sync(console.tx, dashboard.figures, first, last)
    return web.page(request, "dashboard.html", nav="dashboard", errors=errors, f=figures, first=first, last=last)


# --- accounts -------------------------------------------------------------------------------

async def users_page(request: Request, errors=(), status: int = 200) -> HTTPResponse:
    if not request.ctx.user.is_admin:
        return web.forbidden(request)
    users = await run_sync(web.console(request).tx, accounts.list_users)
    return web.page(request, "users.html", status=status, nav="users", errors=errors, users=users,
                    roles=ROLES, min_password=accounts.MIN_PASSWORD_LENGTH)


async def user_create(request: Request) -> HTTPResponse:
    if not request.ctx.user.is_admin:
        return web.forbidden(request)
    try:
        await run_sync(web.console(request).tx, accounts.create_user, web.field(request, "username", 200),
                       web.field(request, "password", accounts.MAX_PASSWORD_LENGTH + 1),
                       web.field(request, "role", 20), request.ctx.user.username, ip=web.client_ip(request))
    except AccountError as exc:
        return await users_page(request, errors=[str(exc)], status=400)
    return web.redirect("/staff/users", "user_created")


async def user_update(request: Request, user_id: int) -> HTTPResponse:
    if not request.ctx.user.is_admin:
        return web.forbidden(request)
    active = web.field(request, "active", 5)
    password = web.field(request, "password", accounts.MAX_PASSWORD_LENGTH + 1)
    try:
        await run_sync(web.console(request).tx, accounts.update_user, user_id, request.ctx.user,
                       role=web.field(request, "role", 20) or None,
                       active=None if active not in ("0", "1") else active == "1",
                       password=password or None, ip=web.client_ip(request))
    except AccountError as exc:
        return await users_page(request, errors=[str(exc)], status=400)
    return web.redirect("/staff/users", "user_updated")


# --- audit log ------------------------------------------------------------------------------

async def audit_page(request: Request) -> HTTPResponse:
    if not request.ctx.user.is_admin:
        return web.forbidden(request)
    action = web.arg(request, "action", 40)
    page = web.positive_int(request.args.get("page"))
    total, pages, entries, actions = await run_sync(web.console(request).tx, read_log, action, page)
    return web.page(request, "audit.html", nav="audit", total=total, pages=pages, page=min(page, pages),
                    entries=entries, actions=actions, action=action,
                    page_link=lambda p: "/staff/audit?" + urlencode(
                        {**({"action": action} if action else {}), "page": p}))

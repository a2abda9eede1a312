"""Request queue pages: the queue, one request, and its status, assignment and notes."""

from __future__ import annotations

from urllib.parse import urlencode

from sanic import Request
from sanic.response import HTTPResponse

from storage.engine import run_sync
from clinic.hours import response_hours
from webapp.staff import queue, web
from webapp.staff.common import InputError
from webapp.staff.tables import REQUEST_KINDS, REQUEST_STATUSES


async def requests_page(request: Request) -> HTTPResponse:
    console = web.console(request)
    status, kind, assigned = web.arg(request, "status"), web.arg(request, "kind"), web.arg(request, "assigned")
    errors = []
    if status and status not in REQUEST_STATUSES:
        errors.append("Unknown status; it was ignored.")
        status = ""
    if kind and kind not in REQUEST_KINDS:
        errors.append("Unknown kind; it was ignored.")
        kind = ""
    sort = web.arg(request, "sort")
    if sort and sort not in queue.SORTS:
        errors.append("Unknown order; newest first is shown.")
        sort = ""
    page = web.positive_int(request.args.get("page"))
    await run_sync(console.refresh)
    overdue_hours = response_hours(console.settings.staff_response_time)
    available, result, staff = await run_sync(console.tx, queue.queue_page, status, kind, assigned, page,
                                              console.settings.staff_page_size, sort or "newest", overdue_hours)
    params = {k: v for k, v in (("status", status), ("kind", kind), ("assigned", assigned), ("sort", sort)) if v}
    return web.page(request, "requests.html", nav="requests", errors=errors, available=available,
                    result=result, staff=staff, status_filter=status, kind=kind, assigned=assigned,
                    statuses=REQUEST_STATUSES, kinds=REQUEST_KINDS, sort=sort or "newest",
                    response_time=console.settings.staff_response_time, overdue_known=overdue_hours is not None,
                    page_link=lambda p: "/staff/requests?" + urlencode({**params, "page": p}))


async def _show_request(request: Request, request_id: int, reveal: bool = False, errors=(),
                        status: int = 200) -> HTTPResponse:
    console = web.console(request)
    await run_sync(console.refresh)
    found, staff = await run_sync(console.tx, queue.request_page, request_id, reveal,
                                  request.ctx.user.username, web.client_ip(request))
    if found is None:
        return web.error(request, 404, "Not found", "There is no such request.", back="/staff/requests")
    return web.page(request, "request.html", status=status, nav="requests", errors=errors, r=found,
                    notifiers=console.settings.staff_notifiers,
                    revealed=reveal, staff=staff, statuses=REQUEST_STATUSES)


async def request_detail(request: Request, request_id: int) -> HTTPResponse:
    return await _show_request(request, request_id)


async def request_reveal(request: Request, request_id: int) -> HTTPResponse:
    if not request.ctx.user.sees_request_contacts:
        return web.forbidden(request, "This needs a desk or admin account.")
    return await _show_request(request, request_id, reveal=True)


async def _request_action(request: Request, request_id: int, action, msg: str) -> HTTPResponse:
    try:
        await run_sync(web.console(request).tx, queue.act_on_request, action)
    except InputError as exc:
        return await _show_request(request, request_id, errors=[str(exc)], status=400)
    return web.redirect(f"/staff/requests/{request_id}", msg)


async def request_status(request: Request, request_id: int) -> HTTPResponse:
    status, user = web.field(request, "status", 20), request.ctx.user.username
    return await _request_action(request, request_id,
                                 lambda conn: queue.update_request(conn, request_id, user, status=status), "status")


async def request_assign(request: Request, request_id: int) -> HTTPResponse:
    who, user = web.field(request, "assigned_to", 100).strip(), request.ctx.user.username
    return await _request_action(
        request, request_id,
        lambda conn: queue.update_request(conn, request_id, user, assigned_to=who or None, unassign=not who),
        "assigned")


async def request_note(request: Request, request_id: int) -> HTTPResponse:
    body, user = web.field(request, "body", queue.MAX_NOTE + 1), request.ctx.user.username
    return await _request_action(request, request_id,
                                 lambda conn: queue.add_note(conn, request_id, user, body), "request_note")

"""Training data pages: the corrected messages, removing one, the NLU training data export."""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse

from storage.engine import run_sync
from webapp.staff import corrections, web
from webapp.staff.common import InputError


async def corrections_page(request: Request) -> HTTPResponse:
    items = await run_sync(web.console(request).tx, corrections.list_corrections)
    return web.page(request, "corrections.html", nav="corrections", items=items)


async def correction_delete(request: Request, correction_id: int) -> HTTPResponse:
    try:
        await run_sync(web.console(request).tx, corrections.delete_correction, correction_id,
                       request.ctx.user.username)
    except InputError as exc:
        return web.error(request, 404, "Not found", str(exc), back="/staff/corrections")
    return web.redirect("/staff/corrections", "correction_removed")


async def corrections_export(request: Request) -> HTTPResponse:
    user, ip = request.ctx.user.username, web.client_ip(request)
    body = await run_sync(web.console(request).tx, corrections.export_training_data, user, ip)
    return web.download(body, f"nlu-corrections-{web.stamp()}.yml", "application/x-yaml; charset=utf-8")

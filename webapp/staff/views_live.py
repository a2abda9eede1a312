"""Live take-over pages: the inbox, taking a conversation, replying, handing it back."""

from __future__ import annotations

from sanic import Request, response
from sanic.response import HTTPResponse

from storage.engine import run_sync
from webapp.staff import live, web
from webapp.staff.transcript import get_conversation

async def inbox_page(request: Request) -> HTTPResponse:
    console = web.console(request)
    await run_sync(console.refresh)
    data = await run_sync(console.tx, live.inbox, request.ctx.user.username)
    return web.page(request, "inbox.html", nav="inbox", inbox=data, live_on=bool(console.settings.relay_token),
                    poll_seconds=console.settings.live_poll_seconds)


async def inbox_count(request: Request) -> HTTPResponse:
    console = web.console(request)  # requests and holds only: no summary refresh on this poll
    waiting = await run_sync(console.tx, live.waiting_count)
    return response.json({"waiting": waiting})


async def _sender(request: Request, conv_id: int):
    conv = await run_sync(web.console(request).tx, get_conversation, conv_id)
    return conv.sender_id if conv is not None else None


async def conversation_take(request: Request, conv_id: int) -> HTTPResponse:
    sender = await _sender(request, conv_id)
    if sender is None:
        return web.error(request, 404, "Not found", "There is no such conversation.", back="/staff/inbox")
    console, user = web.console(request), request.ctx.user
    force = web.field(request, "force", 5) == "1" and user.is_admin  # an admin may take it from a colleague
    previous = await run_sync(console.tx, live.holder, sender)
    try:
        answer = await live.call_relay(console.settings, "take", sender, user.username, force=force)
    except live.RelayError as exc:
        return await _live_error(request, conv_id, exc)
    taken_from = previous.held_by if previous is not None and previous.held_by != user.username else None
    await run_sync(console.tx, live.record_take, sender, user.username, web.client_ip(request), taken_from)
    return web.redirect(f"/staff/conversations/{conv_id}", "taken") if answer.get("ok") else \
        web.error(request, 502, "Not taken", "The assistant did not confirm.", back=f"/staff/conversations/{conv_id}")


async def conversation_reply(request: Request, conv_id: int) -> HTTPResponse:
    sender = await _sender(request, conv_id)
    if sender is None:
        return web.error(request, 404, "Not found", "There is no such conversation.", back="/staff/inbox")
    console, user = web.console(request), request.ctx.user
    text = web.field(request, "text", live.MAX_REPLY + 1).strip()
    if not text:
        return await _live_error(request, conv_id, live.RelayError(400, "Write a reply first."))
    if len(text) > live.MAX_REPLY:
        return await _live_error(request, conv_id, live.RelayError(
            400, f"A reply can have at most {live.MAX_REPLY:,} characters; send it in parts."))
    try:
        answer = await live.call_relay(console.settings, "reply", sender, user.username, text=text)
    except live.RelayError as exc:
        return await _live_error(request, conv_id, exc)
    delivered = str(answer.get("delivered") or "")
    await run_sync(console.tx, live.record_reply, sender, user.username, web.client_ip(request), len(text),
                   delivered)
    if request.headers.get("X-Requested-With") == "fetch":  # the page's script: no reload
        return response.json({"ok": True, "delivered": delivered, "notice": live.DELIVERY.get(delivered, "")})
    return web.redirect(f"/staff/conversations/{conv_id}#live", f"delivery_{delivered}"
                        if delivered in live.DELIVERY else None)


async def conversation_handback(request: Request, conv_id: int) -> HTTPResponse:
    sender = await _sender(request, conv_id)
    if sender is None:
        return web.error(request, 404, "Not found", "There is no such conversation.", back="/staff/inbox")
    console, user = web.console(request), request.ctx.user
    force = web.field(request, "force", 5) == "1" and user.is_admin
    try:
        await live.call_relay(console.settings, "release", sender, user.username, force=force)
    except live.RelayError as exc:
        if exc.status != 404:  # a deleted conversation: nothing left to hand back
            return await _live_error(request, conv_id, exc)
    await run_sync(console.tx, live.record_release, sender, user.username, web.client_ip(request))
    return web.redirect(f"/staff/conversations/{conv_id}", "handed_back")


async def conversation_live(request: Request, conv_id: int) -> HTTPResponse:
    """New messages of a conversation after ``?after=<event id>`` (JSON, polled by the page)."""
    console = web.console(request)
    after = web.positive_int(request.args.get("after"), default=0) if request.args.get("after") else 0
    sender = await _sender(request, conv_id)
    if sender is None:
        return response.json({"error": "no such conversation"}, status=404)
    return response.json(await run_sync(console.tx, live.feed, sender, after))


async def _live_error(request: Request, conv_id: int, exc: live.RelayError) -> HTTPResponse:
    from webapp.staff.views_conversations import show_conversation

    status = exc.status if 400 <= exc.status < 600 else 502
    return await show_conversation(request, conv_id, errors=[str(exc)], status=status,
                                   page=web.positive_int(web.field(request, "page", 20)))

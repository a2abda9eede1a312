"""Conversation pages: the list, one conversation and what staff do to it, the export."""

from __future__ import annotations

from typing import Optional
from urllib.parse import urlencode

from sanic import Request, response
from sanic.response import HTTPResponse

from storage.engine import run_sync
from webapp.staff import corrections, deletion, exports, inputs, live, review, transcript, web
from webapp.staff.common import InputError, fmt_ts
from webapp.staff.conversation_list import list_page, parse_filters


async def conversation_list(request: Request) -> HTTPResponse:
    console = web.console(request)
    filters = parse_filters(request.args)
    await run_sync(console.refresh)
    result, choices = await run_sync(console.tx, list_page, filters,
                                     console.settings.low_confidence, console.settings.staff_page_size)
    return web.page(request, "conversations.html", nav="conversations", errors=filters.errors,
                    filters=filters, result=result, choices=choices,
                    page_link=lambda p: "/staff/?" + filters.query_string(page=p),
                    export_params=filters.params(page=1), export_max=console.settings.staff_export_max)


async def show_conversation(request: Request, conv_id: int, reveal: bool = False, errors=(),
                            status: int = 200, page: Optional[int] = None,
                            details: Optional[bool] = None) -> HTTPResponse:
    console = web.console(request)
    if page is None:
        page = web.positive_int(request.args.get("page"))
    low = console.settings.low_confidence
    conv, data, known_tags = await run_sync(console.tx, transcript.conversation_page, conv_id, reveal, low, page,
                                            request.ctx.user.username, web.client_ip(request))
    if conv is None or data["total"] == 0:
        return web.error(request, 404, "Not found", "There is no such conversation (it may have been deleted).",
                         back="/staff/")
    hold = await run_sync(console.tx, live.holder, conv.sender_id)
    return web.page(request, "conversation.html", status=status, nav="conversations", errors=errors,
                    conv=conv, t=data, revealed=reveal, known_tags=known_tags,
                    started=fmt_ts(conv.started_at), last=fmt_ts(conv.last_at),
                    low=conv.min_confidence is not None and conv.min_confidence < low,
                    intents=console.intents, entities=console.entities, intent_help=console.intent_help,
                    word_choices=transcript.word_choices,
                    hold=hold, live_on=bool(console.settings.relay_token),
                    poll_seconds=console.settings.live_poll_seconds,
                    details=request.args.get("details") == "1" if details is None else details,
                    page_link=lambda p: f"/staff/conversations/{conv.id}?page={p}")


async def conversation(request: Request, conv_id: int) -> HTTPResponse:
    return await show_conversation(request, conv_id)


async def conversation_reveal(request: Request, conv_id: int) -> HTTPResponse:
    if not request.ctx.user.is_admin:
        return web.forbidden(request)
    # a reveal shows every event: the personal data sits in slots as much as in messages
    return await show_conversation(request, conv_id, reveal=True, details=True,
                                   page=web.positive_int(web.field(request, "page", 20)))


async def _conversation_action(request: Request, conv_id: int, action, msg: str,
                               anchor: str = "") -> HTTPResponse:
    """Run ``action(conn, sender_id)`` on a conversation, then back to it (or its page with the error)."""
    console = web.console(request)
    try:
        found = await run_sync(console.tx, transcript.act_on_conversation, conv_id, action)
    except InputError as exc:
        return await show_conversation(request, conv_id, errors=[str(exc)], status=400,
                                       page=web.positive_int(web.field(request, "page", 20)))
    if not found:
        return web.error(request, 404, "Not found", "There is no such conversation.", back="/staff/")
    page = web.positive_int(web.field(request, "page", 20))
    location = f"/staff/conversations/{conv_id}" + (f"?page={page}" if page > 1 else "")
    return web.redirect(location, msg) if not anchor else response.redirect(
        f"{location}{'&' if '?' in location else '?'}{urlencode({'msg': msg})}#{anchor}", status=303)


async def conversation_review(request: Request, conv_id: int) -> HTTPResponse:
    reviewed = web.field(request, "reviewed", 5) == "1"
    user = request.ctx.user.username
    return await _conversation_action(
        request, conv_id, lambda conn, sender: review.set_reviewed(conn, sender, reviewed, user),
        "reviewed" if reviewed else "unreviewed")


async def conversation_note(request: Request, conv_id: int) -> HTTPResponse:
    note, user = web.field(request, "note", review.MAX_NOTE + 1), request.ctx.user.username
    return await _conversation_action(
        request, conv_id, lambda conn, sender: review.save_note(conn, sender, note, user), "note")


async def conversation_tag_add(request: Request, conv_id: int) -> HTTPResponse:
    tag, user = web.field(request, "tag", 200), request.ctx.user.username
    return await _conversation_action(
        request, conv_id, lambda conn, sender: review.add_tag(conn, sender, tag, user), "tag_added")


async def conversation_tag_remove(request: Request, conv_id: int) -> HTTPResponse:
    tag, user = web.field(request, "tag", 200), request.ctx.user.username
    return await _conversation_action(
        request, conv_id, lambda conn, sender: review.remove_tag(conn, sender, tag, user), "tag_removed")


async def conversation_correct(request: Request, conv_id: int) -> HTTPResponse:
    console = web.console(request)
    event_id = web.positive_int(web.field(request, "event_id", 20), default=0)
    intent = web.field(request, "intent", 300).strip()
    text = web.field(request, "text", transcript.MAX_EXAMPLE + 10)
    user = request.ctx.user.username
    picks = None
    if web.field(request, "form", 10) == "words":  # entities picked from the message's words
        picks = inputs.pairs(request.body, "entity_type", "entity_words", transcript.MAX_EXAMPLE)
    return await _conversation_action(
        request, conv_id,
        lambda conn, sender: corrections.correct_message(conn, sender, event_id, intent, text, user,
                                                         console.intents, console.entities, picks),
        "corrected", anchor=f"event-{event_id}")


async def conversation_delete(request: Request, conv_id: int) -> HTTPResponse:
    if not request.ctx.user.is_admin:
        return web.forbidden(request)
    if web.field(request, "confirm", 10) != "yes":
        return await show_conversation(request, conv_id, status=400,
                                       errors=["Tick the confirmation box to delete the conversation."])
    console = web.console(request)
    user, ip = request.ctx.user.username, web.client_ip(request)
    if not await run_sync(deletion.delete_conversation_by_id, console.engine, conv_id, user, ip):
        return web.error(request, 404, "Not found", "There is no such conversation.", back="/staff/")
    return web.redirect("/staff/", "deleted")


async def export_conversations(request: Request) -> HTTPResponse:
    console = web.console(request)
    fmt = web.field(request, "format", 10)
    if fmt not in ("csv", "json"):
        return web.error(request, 400, "Unknown format", "Export as CSV or JSON.", back="/staff/")
    reveal = web.field(request, "reveal", 5) == "1"
    if reveal and not request.ctx.user.is_admin:
        return web.forbidden(request)
    filters = parse_filters(web.form(request))
    limit = console.settings.staff_export_max
    low = console.settings.low_confidence
    await run_sync(console.refresh)
    user, ip = request.ctx.user.username, web.client_ip(request)
    total, body = await run_sync(console.tx, exports.export_conversations, filters, fmt, reveal, low, limit,
                                 user, ip)
    if body is None:
        return web.error(request, 400, "Too many conversations",
                         f"{total} conversations match, more than the export limit of {limit}. "
                         "Narrow the filters (for example by date) and export in parts.",
                         back="/staff/?" + filters.query_string(page=1))
    if fmt == "csv":
        return web.download(body, f"conversations-{web.stamp()}.csv", "text/csv; charset=utf-8")
    return web.download(body, f"conversations-{web.stamp()}.json", "application/json")

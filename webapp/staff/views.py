"""The staff console's Sanic blueprint (under /staff): its routes, middleware and lifecycle.

The pages live in the ``views_*`` modules by page group; the request helpers and the
middleware (login required by default, CSRF check of every POST) in ``web``.
"""

from __future__ import annotations

from sanic import Blueprint

from storage.engine import run_sync
from webapp.settings import WebSettings
from webapp.staff.console import Console
from webapp.staff.files import static
from webapp.staff.views_admin import audit_page, dashboard_page, user_create, user_update, users_page
from webapp.staff.views_auth import account_page, account_password, login_form, login_submit, logout
from webapp.staff.views_conversations import (conversation, conversation_correct, conversation_delete,
                                              conversation_list, conversation_note, conversation_reveal,
                                              conversation_review, conversation_tag_add,
                                              conversation_tag_remove, export_conversations)
from webapp.staff.views_live import (conversation_handback, conversation_live, conversation_reply,
                                     conversation_take, inbox_count, inbox_page)
from webapp.staff.views_corrections import correction_delete, corrections_export, corrections_page
from webapp.staff.views_requests import (request_assign, request_detail, request_note, request_reveal,
                                         request_status, requests_page)
from webapp.staff.web import guard, security_headers

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
        ("/inbox", inbox_page, ["GET"]),
        ("/inbox/count", inbox_count, ["GET"]),
        ("/conversations/<conv_id:int>/take", conversation_take, ["POST"]),
        ("/conversations/<conv_id:int>/reply", conversation_reply, ["POST"]),
        ("/conversations/<conv_id:int>/handback", conversation_handback, ["POST"]),
        ("/conversations/<conv_id:int>/live", conversation_live, ["GET"]),
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

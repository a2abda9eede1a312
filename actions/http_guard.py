"""What the action server checks before rasa-sdk sees a call.

* The token: when ``ACTION_SERVER_TOKEN`` is set, every call but ``/health`` must carry
  it, as ``Authorization: Bearer <token>`` (endpoints.yml) or ``?token=`` (Rasa's
  ``token:`` endpoint option); compared in constant time; 401 otherwise.
* The body of ``/webhook``: a JSON object with a string ``next_action`` and an object
  ``tracker``, at most ``MAX_BODY_BYTES`` (also after inflating a ``deflate`` body, so a
  small compressed body cannot expand to gigabytes); 400 with a JSON error otherwise,
  instead of rasa-sdk's 500 on a body that is not an object.
"""

from __future__ import annotations

import hmac
import json
import logging
import zlib
from typing import Any, Optional

logger = logging.getLogger(__name__)

OPEN_PATHS = {"/health"}  # the launcher's and the load balancer's health checks
MAX_BODY_BYTES = 16 * 1024 * 1024  # a long conversation's tracker, with room to spare


def token_problem(expected: str, authorization: Optional[str], query_token: Optional[str]) -> Optional[str]:
    """None when the call may run actions, else why not."""
    if not expected:
        return None
    given = ""
    if authorization and authorization.startswith("Bearer "):
        given = authorization[len("Bearer "):].strip()
    elif query_token:
        given = query_token
    if not given:
        return "missing token"
    if not hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8")):
        return "wrong token"
    return None


def inflate(body: bytes, limit: int = MAX_BODY_BYTES) -> bytes:
    """A deflate body, refused (ValueError) if it is broken or expands beyond ``limit``."""
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(body, limit)
    except zlib.error:
        raise ValueError("the body is not valid deflate data") from None
    if inflater.unconsumed_tail:
        raise ValueError(f"the inflated body is larger than {limit} bytes")
    return data


def call_problem(body: bytes, content_encoding: Optional[str]) -> Optional[str]:
    """None when ``body`` is an action call rasa-sdk can run, else what is wrong."""
    if len(body) > MAX_BODY_BYTES:
        return f"the body must be at most {MAX_BODY_BYTES} bytes"
    if content_encoding == "deflate":
        try:
            body = inflate(body)
        except ValueError as exc:
            return str(exc)
    try:
        call: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return "the body is not valid JSON"
    if not isinstance(call, dict):
        return "the body must be a JSON object"
    if not isinstance(call.get("next_action"), str):
        return "next_action must be a string"
    if not isinstance(call.get("tracker"), dict):
        return "tracker must be a JSON object"
    if not isinstance(call.get("domain", {}), dict):
        return "domain must be a JSON object"
    return None


def install(app: Any, token: str) -> None:
    from sanic import response

    install_error_handler(app)

    @app.middleware("request")
    async def guard(request: Any) -> Any:
        if request.path in OPEN_PATHS:
            return None
        problem = token_problem(token, request.headers.get("Authorization"), request.args.get("token"))
        if problem:
            logger.warning("Action server call refused: %s", problem)
            return response.json({"error": "unauthorized"}, status=401)
        if request.path == "/webhook" and request.method == "POST":
            problem = call_problem(request.body or b"", request.headers.get("Content-Encoding"))
            if problem:
                logger.warning("Action server call refused: %s", problem)
                return response.json({"error": problem}, status=400)
        return None


def install_error_handler(app: Any) -> None:
    """rasa-sdk's own handler logs the exception and echoes the whole request body (the
    patient's messages) in its 500 answer; this one logs and answers the error type only."""
    from sanic import response

    async def failed(request: Any, exception: Exception) -> Any:
        logger.error("Action call failed: %s", type(exception).__name__)
        return response.json({"error": "the action failed"}, status=500)

    app.error_handler.add(Exception, failed)

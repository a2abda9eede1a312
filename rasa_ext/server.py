"""Rasa's web server without its version banner, and with a request size cap.

Stock Rasa answers ``GET /`` with "Hello from Rasa: 3.6.21", which tells an attacker
which known vulnerabilities to try; here it says ``ok`` (the launcher and load
balancers use it as the health check). Sanic accepts 100 MB bodies by default; no
channel of this assistant needs more than 1 MB (socket.io's own limit), so larger
bodies are refused with 413 before they are read into memory.
"""

from __future__ import annotations

from typing import Any

from channels.guard import MAX_BODY_BYTES

MAX_REQUEST_BYTES = max(1024 * 1024, MAX_BODY_BYTES)


def add_root_route(app: Any) -> None:
    from sanic import response

    app.config.REQUEST_MAX_SIZE = MAX_REQUEST_BYTES

    @app.get("/")
    async def health(_request: Any) -> Any:
        return response.text("ok")


def install() -> None:
    import rasa.server

    # Both places Rasa builds its app (with and without the HTTP API) call this by name.
    rasa.server.add_root_route = add_root_route

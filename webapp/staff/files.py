"""The console's static files (its style sheet), served by name and nothing else.

Sanic's directory handler answered 500 for the folder itself; this knows the files
at start and answers 404 for any other name, so no request reaches the file system
with a path a client chose.
"""

from __future__ import annotations

import mimetypes

from sanic import Request, response
from sanic.exceptions import NotFound
from sanic.response import HTTPResponse

from webapp.staff.console import HERE

FILES = {p.name: p for p in (HERE / "static").iterdir() if p.is_file()}


async def static(request: Request, name: str) -> HTTPResponse:
    path = FILES.get(name)
    if path is None:
        raise NotFound("There is no such file.")
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return await response.file(path, mime_type=mime + ("; charset=utf-8" if mime.startswith("text/") else ""))

"""Malformed query strings, form fields, ids and paths get a clear answer (a message
and the default, a 400 or a 404), never a server error."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import quote

import pytest

from tests.webapp.conftest import NOW, PASSWORD, CSRF_RE, insert_request, scalar, standard_conversations

BAD_DATES = ["9999-12-31", "0001-01-01", "0000-00-00", "9999-99-99", "99999999999999999999", "-1",
             "2024-02-30", "not-a-date", "1e308", "２０２４-０１-０１", "%00", "١٩٧٠-٠١-٠١",
             "9" * 2000]


@pytest.mark.parametrize("page", ["/staff/", "/staff/dashboard"])
def test_absurd_dates_are_ignored_with_a_message(client, page):
    client.login("rita")
    for value in BAD_DATES:
        for query in (f"to={value}", f"from={value}", f"from={value}&to={value}", f"from=2024-01-01&to={value}"):
            resp = client.get(f"{page}?{query}")
            assert resp.status == 200, (page, query, resp.status)
            assert "ignored" in resp.text or "swapped" in resp.text or "shortened" in resp.text, (page, query)
    # the extremes that are still dates work as ranges
    assert client.get("/staff/?from=1900-01-01&to=9999-12-30").status == 200
    assert client.get("/staff/dashboard?from=9999-12-01&to=9999-12-30").status == 200
    assert client.get("/staff/dashboard?to=1900-01-01").status == 200


def test_huge_and_negative_numbers(client, seeded):
    client.login("ada")
    for query in ("page=99999999999999999999999", "page=-5", "page=1e9", "page=" + "9" * 5000, "page=%00"):
        for path in ("/staff/", "/staff/requests", "/staff/audit"):
            assert client.get(f"{path}?{query}").status == 200, (path, query)
    cid = scalar(seeded, "SELECT id FROM staff_conversations WHERE sender_id = 'conv-old'")
    assert client.get(f"/staff/conversations/{cid}?page=99999999999999999999").status == 200
    huge = "9" * 25
    for path in (f"/staff/conversations/{huge}", f"/staff/requests/{huge}", "/staff/conversations/-1",
                 "/staff/conversations/2147483648", "/staff/requests/-9223372036854775809"):
        assert client.get(path).status == 404, path
    for path in (f"/staff/conversations/{huge}/review", f"/staff/corrections/{huge}/delete",
                 f"/staff/requests/{huge}/status", f"/staff/users/{huge}", f"/staff/requests/{huge}/note",
                 f"/staff/conversations/{huge}/reveal", f"/staff/requests/{huge}/reveal"):
        assert client.post(path, {"status": "closed", "body": "x", "reviewed": "1"}).status == 404, path
    resp = client.post(f"/staff/conversations/{cid}/correct",
                       {"event_id": huge, "intent": "greet", "text": "hello"})
    assert resp.status == 400 and "not part of this conversation" in resp.text


def test_nul_and_control_characters_in_queries_and_forms(client, seeded):
    # PostgreSQL refuses NUL in any text parameter; the console must not pass one on
    page = client.get("/staff/login")
    token = CSRF_RE.search(page.text).group(1)
    resp = client.post("/staff/login", {"username": "ri\x00ta", "password": PASSWORD, "csrf_token": token},
                       csrf=False)
    assert resp.status == 401
    client.login("ada")
    for query in ("q=a%00b", "channel=%00", "tag=%00", "q=%01%02%7f", "q=%ED%B0%80"):
        assert client.get(f"/staff/?{query}").status == 200, query
    assert client.get("/staff/requests?assigned=a%00b&status=%00&kind=%00").status == 200
    assert client.get("/staff/audit?action=%00").status == 200
    cid = scalar(seeded, "SELECT id FROM staff_conversations WHERE sender_id = 'conv-old'")
    assert client.post(f"/staff/conversations/{cid}/note", {"note": "call \x00 back"}).status == 303
    assert "\x00" not in scalar(seeded, "SELECT note FROM staff_reviews")
    assert client.post(f"/staff/conversations/{cid}/tags", {"tag": "a\x00b"}).status == 400
    assert client.post(f"/staff/conversations/{cid}/tags/remove", {"tag": "a\x00b"}).status == 303
    rid = insert_request(seeded, "conv-booking", "CL-NULL11")
    assert client.post(f"/staff/requests/{rid}/note", {"body": "left \x00 voicemail"}).status == 303
    assert client.post(f"/staff/requests/{rid}/assign", {"assigned_to": "ri\x00ta"}).status == 400
    assert client.post(f"/staff/requests/{rid}/status", {"status": "new\x00"}).status == 400
    assert client.post("/staff/users", {"username": "bo\x00b", "role": "reviewer",
                                        "password": "a long enough password"}).status == 400
    assert client.post("/staff/export/conversations", {"format": "csv", "q": "a\x00", "from": "\x00"}).status == 200
    assert client.post(f"/staff/conversations/{cid}/correct",
                       {"event_id": "1", "intent": "gr\x00eet", "text": "hel\x00lo"}).status == 400


def _raw_get(client, path: str) -> int:
    """A request line sent as is (HTTP clients normalise '..' away), on the test
    server's own event loop (it serves only while that loop runs)."""
    async def send() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", client.raw.port)
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), 10)
        writer.close()
        return line

    return int(client.raw._run(send()).split(b" ", 2)[1])


def test_static_files_only(client):
    assert client.get("/staff/static/console.css").status == 200
    for path in ("/staff/static/", "/staff/static", "/staff/static/../x", "/staff/static/../views.py",
                 "/staff/static/%2e%2e/views.py", "/staff/static/..%2fviews.py", "/staff/static/nothing.css",
                 "/staff/static//etc/passwd", "/staff/static/%00",
                 "/staff/static/%ff"):
        status = _raw_get(client, path)
        assert status in (400, 404), (path, status)


def test_seeded_conversations_never_lie_in_the_future():
    """The fixtures' times are relative to now, so tests pass at any hour: a purge
    ("forget me") removes only events older than its cut-off, i.e. before now."""
    now = time.time()
    assert NOW.timestamp() < now
    for sender, events in standard_conversations().items():
        assert max(e.timestamp for e in events) < now, sender


def test_non_ascii_csrf_tokens_are_refused_not_a_crash(client, seeded):
    """hmac.compare_digest raises TypeError on non-ASCII str: a forged token "é" was a 500."""
    page = client.get("/staff/login")
    assert CSRF_RE.search(page.text)
    resp = client.post("/staff/login", {"username": "rita", "password": PASSWORD, "csrf_token": "é"}, csrf=False)
    assert resp.status == 403
    client.login("rita")
    cid = scalar(seeded, "SELECT id FROM staff_conversations WHERE sender_id = 'conv-old'")
    for token in ("é", "\x1f", "\udc00", "ü" * 43):
        resp = client.raw.post(f"/staff/conversations/{cid}/review", allow_redirects=False,
                               content=b"reviewed=1&csrf_token=" + quote(token.encode("utf-8", "surrogatepass")).encode(),
                               headers={"content-type": "application/x-www-form-urlencoded"})[1]
        assert resp.status == 403, (token, resp.status)
    assert scalar(seeded, "SELECT count(*) FROM staff_reviews") == 0

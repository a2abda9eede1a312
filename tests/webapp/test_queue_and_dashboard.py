"""The request queue and the dashboard."""

from __future__ import annotations

import re

import sqlalchemy as sa

from tests.webapp.conftest import day_ts, insert_request, save_conversations, scalar, session_start, turn
from webapp.staff import tables as t


def test_queue_lists_filters_and_links_transcripts(client, seeded):
    new = insert_request(seeded, "conv-booking", "CL-NEW111")
    insert_request(seeded, "conv-emergency", "CL-HAND22", kind="handoff", status="contacted", full_name=None,
                   email=None, phone=None)
    insert_request(seeded, "gone-conversation", "CL-OLD333", kind="second_opinion", status="closed")
    client.login("rita")
    page = client.get("/staff/requests").text
    assert page.index("CL-NEW111") and "CL-HAND22" in page and "CL-OLD333" in page
    assert "Anna" not in page and "anna.stone" not in page
    assert "new: 1" in page and "contacted: 1" in page and "closed: 1" in page
    only_new = client.get("/staff/requests?status=new").text
    assert "CL-NEW111" in only_new and "CL-HAND22" not in only_new
    assert "CL-OLD333" in client.get("/staff/requests?kind=second_opinion").text
    assert client.get("/staff/requests?status=bogus' OR 1=1").status == 200
    row = re.search(r"CL-NEW111.*?</tr>", page, flags=re.S).group(0)
    cid = scalar(seeded, "SELECT id FROM staff_conversations WHERE sender_id = 'conv-booking'")
    assert f'href="/staff/conversations/{cid}"' in row
    assert "not available" in re.search(r"CL-OLD333.*?</tr>", page, flags=re.S).group(0)
    detail = client.get(f"/staff/requests/{new}").text
    assert "‹hidden›" in detail and "Anna" not in detail and "+4915112345678" not in detail
    assert "Tuesday morning" in detail and "urologist" in detail
    assert client.get("/staff/requests/99999").status == 404


def test_working_a_request(client, seeded):
    rid = insert_request(seeded, "conv-booking", "CL-WORK11")
    client.login("rita")
    client.get(f"/staff/requests/{rid}")
    assert client.post(f"/staff/requests/{rid}/status", {"status": "contacted"}).status == 303
    assert client.post(f"/staff/requests/{rid}/assign", {"assigned_to": "rita"}).status == 303
    resp = client.post(f"/staff/requests/{rid}/note", {"body": "Called <b>back</b>, left a voicemail."})
    assert resp.status == 303
    engine = sa.create_engine(seeded)
    with engine.connect() as conn:
        row = conn.execute(sa.select(t.requests).where(t.requests.c.id == rid)).one()
        note = conn.execute(sa.select(t.request_notes)).one()
    assert row.status == "contacted" and row.assigned_to == "rita"
    assert note.author == "rita" and note.request_id == rid and "voicemail" in note.body
    detail = client.get(f"/staff/requests/{rid}").text
    assert "Called &lt;b&gt;back&lt;/b&gt;, left a voicemail." in detail
    assert "CL-WORK11" in client.get("/staff/requests?assigned=rita&status=contacted").text
    # bad input changes nothing
    assert client.post(f"/staff/requests/{rid}/status", {"status": "deleted"}).status == 400
    assert client.post(f"/staff/requests/{rid}/assign", {"assigned_to": "mallory"}).status == 400
    assert client.post(f"/staff/requests/{rid}/note", {"body": "   "}).status == 400
    assert client.post("/staff/requests/99999/status", {"status": "closed"}).status == 404
    assert client.post(f"/staff/requests/{rid}/status", {"status": "closed"}).status == 303
    assert client.post(f"/staff/requests/{rid}/assign", {"assigned_to": ""}).status == 303
    with engine.connect() as conn:
        row = conn.execute(sa.select(t.requests).where(t.requests.c.id == rid)).one()
    assert row.status == "closed" and row.assigned_to is None
    actions = [r[0] for r in engine.connect().execute(sa.text(
        "SELECT action FROM staff_audit_log WHERE target = :t ORDER BY id"), {"t": f"request:{rid}"})]
    assert actions == ["request_update", "request_update", "request_note", "request_update", "request_update"]
    # the conversation shows its request
    cid = scalar(seeded, "SELECT id FROM staff_conversations WHERE sender_id = 'conv-booking'")
    page = client.get(f"/staff/conversations/{cid}").text
    assert f'href="/staff/requests/{rid}"' in page and "CL-WORK11" in page


def test_admin_reveals_contact_details(client, seeded):
    rid = insert_request(seeded, "conv-booking", "CL-REVE11")
    client.login("rita")
    assert client.post(f"/staff/requests/{rid}/reveal").status == 403
    client.logout_locally()
    client.login("ada")
    client.get(f"/staff/requests/{rid}")
    page = client.post(f"/staff/requests/{rid}/reveal").text
    assert "Anna Stone" in page and "anna.stone@example.org" in page and "+4915112345678" in page
    assert scalar(seeded, "SELECT actor FROM staff_audit_log WHERE action = 'reveal'") == "ada"


def test_queue_without_request_tables(db_url):
    from tests.webapp.conftest import Client, create_account, make_app
    from webapp.settings import WebSettings

    save_conversations(db_url, {"c1": session_start(day_ts(0)) + turn("hi", "greet", 0.9, day_ts(0) + 1,
                                                                      "utter_greet", "Hello")})
    create_account(db_url, "rita", "reviewer")
    with Client(make_app(WebSettings(database_url=db_url, rasa_url="", port=0))) as c:
        c.login("rita")
        assert "not been set up" in c.get("/staff/requests").text
        assert c.get("/staff/requests/1").status == 404
        assert c.get("/staff/?request=yes").status == 200
        assert c.get("/staff/dashboard").status == 200


def test_dashboard_draws_labelled_charts(client, seeded):
    insert_request(seeded, "conv-booking", "CL-DASH11")
    insert_request(seeded, "conv-emergency", "CL-DASH22", status="closed")
    t0 = day_ts(1, 10)
    # the same unclear message from two patients, one of whom gave a name
    save_conversations(seeded, {
        "conv-f2": session_start(t0) + turn("blorp wibble zzz", "nlu_fallback", 0.2, t0 + 1,
                                            "action_two_stage_fallback", "Sorry?"),
        "conv-f3": session_start(t0 + 60) + turn("my name is Zed Quux", "nlu_fallback", 0.2, t0 + 61,
                                                 "action_default_fallback", "Sorry?"),
    })
    client.login("rita")
    page = client.get("/staff/dashboard")
    assert page.status == 200
    text = page.text
    svgs = re.findall(r"<svg .*?</svg>", text, flags=re.S)
    assert len(svgs) == 6
    for title in ("Conversations and patient messages per day", "Fallback rate per day",
                  "Top intents of patient messages", "Most frequent messages that led to a fallback",
                  "Requests by status", "Conversations by channel"):
        assert f"<title>{title}" in text, title
    assert "Day (UTC)" in text and "% of messages" in text
    fallback_chart = next(s for s in svgs if "led to a fallback" in s)
    assert re.search(r"blorp wibble zzz</text>.*?>2</text>", fallback_chart, flags=re.S)
    assert "Zed" not in text and "zed" not in text and "‹name›" in fallback_chart
    status_chart = next(s for s in svgs if "Requests by status" in s)
    assert ">new</text>" in status_chart and ">closed</text>" in status_chart
    channel_chart = next(s for s in svgs if "by channel" in s)
    assert "telegram" in channel_chart and "socketio" in channel_chart
    assert "7</strong> conversations" in text
    # a range with nothing in it, and malformed dates
    empty = client.get("/staff/dashboard?from=2001-01-01&to=2001-01-31").text
    assert "No data in this period" in empty
    assert "is not a date" in client.get("/staff/dashboard?from=yesterday").text
    assert "swapped" in client.get("/staff/dashboard?from=2001-02-01&to=2001-01-01").text

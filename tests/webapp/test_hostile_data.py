"""Stored text the console did not write: lone surrogates, NUL and other control
characters, megabytes in one message. Rows go into the real ``events`` table the way
Rasa stores them (``json.dumps``, so a lone surrogate is the escape ``\\udc00`` in the
row), on SQLite and PostgreSQL. Nothing may answer 500, nothing may stop the web app
from starting, and every answer must be valid UTF-8."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid

import sqlalchemy as sa

from tests.webapp.conftest import Client, day_ts, engine_for, insert_request, make_app, scalar
from webapp.staff import tables as t

SURROGATE = "\udc00"
HIGH = "\ud800"
BIG = 1_500_000  # characters in one message


def hostile_text(nul: bool, surrogates: bool = True) -> str:
    # No database column can hold a lone surrogate, and PostgreSQL text cannot hold NUL:
    # plain columns get what their database takes; inside JSON (the data column) both
    # are escapes (\udc00, \u0000), as Rasa's json.dumps writes them.
    return (f"bad {SURROGATE} lone {HIGH} surrogates, " if surrogates else "bad ") + \
        "bell \x07 escape \x1b c1 \x85" + (" nul \x00" if nul else "")


def seed_hostile(url: str) -> dict:
    """Events with hostile text in every field the console reads; returns the sender ids."""
    is_sqlite = url.startswith("sqlite")
    raw = hostile_text(nul=is_sqlite, surrogates=False)  # for plain columns
    inside = hostile_text(nul=True) + " \x00 \x08 \x0c"  # for JSON: escapes on both databases
    senders = {"hostile": "conv-hostile", "big": "conv-megabytes", "ctl": "conv-ctl\x07\x1b"}
    if is_sqlite:
        senders["nul"] = "conv-nul\x00id"
    t0 = day_ts(0, -40)

    def event(sender, kind, ts, data, intent=None, action=None):
        return {"sender_id": sender, "type_name": kind, "timestamp": ts, "intent_name": intent,
                "action_name": action, "data": json.dumps(data)}

    rows = []
    for n, sender in enumerate(senders.values()):
        ts = t0 + n * 60
        text = inside if sender != senders["big"] else ("x" * 1000 + " " + inside + " ") * (BIG // 1100)
        rows += [
            event(sender, "action", ts, {"event": "action", "name": "action_session_start"}, action="action_session_start"),
            event(sender, "user", ts + 1, {
                "event": "user", "text": text, "timestamp": ts + 1, "input_channel": "web" + inside,
                "parse_data": {"text": text, "intent": {"name": "nlu_fallback", "confidence": 0.2},
                               "entities": [{"entity": "person" + inside, "value": inside, "start": 0, "end": 3},
                                            {"entity": "lesion_type", "value": inside, "start": 1, "end": 2}],
                               "intent_ranking": [{"name": inside, "confidence": 0.1}]}},
                intent="nlu_fallback" + (raw if is_sqlite else "")),
            event(sender, "action", ts + 2, {"event": "action", "name": "action_two_stage_fallback",
                                             "policy": "Rule" + inside, "confidence": 1.0},
                  action="action_two_stage_fallback"),
            event(sender, "slot", ts + 3, {"event": "slot", "name": "booking_note", "value": inside},
                  action="booking_note"),
            event(sender, "slot", ts + 4, {"event": "slot", "name": "booking_full_name", "value": "Zed" + inside},
                  action="booking_full_name"),
            event(sender, "slot", ts + 5, {"event": "slot", "name": "lesion_type", "value": [inside, {"k": inside}]},
                  action="lesion_type"),
            event(sender, "bot", ts + 6, {"event": "bot", "text": "reply " + inside,
                                          "data": {"buttons": [{"title": inside, "payload": "/x"}]}}),
            event(sender, "weird" + (raw if is_sqlite else ""), ts + 7, {"event": "weird", "name": inside}),
            event(sender, "user", ts + 8, {"event": "user", "text": 12345, "parse_data": ["not", "a", "dict"]}),
            event(sender, "user", ts + 9, "just a string"),
            event(sender, "user", ts + 9.5, {"event": "user", "text": "odd numbers", "parse_data": {
                "intent": {"name": "greet", "confidence": 10**400}, "entities": 5}}),
            event(sender, "bot", ts + 9.6, {"event": "bot", "text": "odd", "data": {"buttons": "not a list"}}),
            {"sender_id": sender, "type_name": "user", "timestamp": ts + 10, "intent_name": None,
             "action_name": None, "data": '{"text": "not json' + (raw if is_sqlite else "")},
            {"sender_id": sender, "type_name": "user", "timestamp": ts + 11, "intent_name": None,
             "action_name": None, "data": "[" * 100_000 + "]" * 100_000},  # deeper than json can nest
        ]
    engine = engine_for(url)
    try:
        with engine.begin() as conn:
            conn.execute(t.events.insert(), rows)
    finally:
        engine.dispose()
    insert_request(url, senders["hostile"], "CL-HOST11", full_name="Zed" + raw, note="note " + raw,
                   preferred_time_text="any" + raw, specialist="uro" + raw, last_notify_error="smtp" + raw)
    return senders


def seed_staff_rows(url: str, sender: str) -> None:
    """Staff data written before input was cleaned (NUL only where the database takes it)."""
    raw = hostile_text(nul=url.startswith("sqlite"), surrogates=False)
    engine = engine_for(url)
    try:
        with engine.begin() as conn:
            rid = conn.execute(sa.select(t.requests.c.id).where(t.requests.c.reference == "CL-HOST11")).scalar()
            conn.execute(t.request_notes.insert().values(request_id=rid, author="rita" + raw, body="called " + raw,
                                                         created_at=sa.func.now()))
            conn.execute(t.reviews.insert().values(conversation_id=sender, reviewed=False, note="old note " + raw))
    finally:
        engine.dispose()


def assert_clean(resp, status=200):
    assert resp.status == status, (resp.status, resp.text[:300])
    body = resp.content.decode("utf-8")  # strict: a lone surrogate or invalid byte fails here
    assert "\x00" not in body
    return body


def test_hostile_stored_text_never_breaks_a_page_or_the_start(settings, seeded):
    senders = seed_hostile(seeded)
    # the web app starts with these rows in place (the summary refresh runs at start)
    with Client(make_app(settings)) as client:
        seed_staff_rows(seeded, senders["hostile"])
        client.login("rita")
        body = assert_clean(client.get("/staff/"))
        assert "conv-hostile" in body and "conv-megabytes" in body
        for query in ("?q=bad", "?q=%ED%B0%80", "?fallback=yes", "?channel=web"):
            assert_clean(client.get("/staff/" + query))
        dashboard = assert_clean(client.get("/staff/dashboard"))
        assert "\ufffd" in dashboard  # the hostile fallback message is charted, replaced
        ids = {name: scalar(seeded, "SELECT id FROM staff_conversations WHERE sender_id = :s", s=sender)
               for name, sender in senders.items()}
        assert all(ids.values()), ids
        for name, cid in ids.items():
            page = assert_clean(client.get(f"/staff/conversations/{cid}"))
            # the reply is the patient's note (a personal slot), hidden; the rest is replaced
            assert re.search(r"<p class=\"text\">reply ‹hidden›</p>", page) and "surrogates" in page
            assert "bad \ufffd lone \ufffd surrogates" in page
        big = assert_clean(client.get(f"/staff/conversations/{ids['big']}"))
        assert len(big) < BIG // 2 and "shortened" in big  # the page shows a part of the huge message
        rid = scalar(seeded, "SELECT id FROM requests WHERE reference = 'CL-HOST11'")
        assert "CL-HOST11" in assert_clean(client.get("/staff/requests"))
        assert "called" in assert_clean(client.get(f"/staff/requests/{rid}"))
        csv_body = assert_clean(client.post("/staff/export/conversations", {"format": "csv"}))
        csv.field_size_limit(max(csv.field_size_limit(), 4 * BIG))
        rows = list(csv.DictReader(io.StringIO(csv_body)))
        assert {r["conversation_id"] for r in rows} >= {"conv-hostile", "conv-megabytes"}
        assert any(len(r["text"]) > BIG // 2 for r in rows)  # exports keep the whole message
        data = json.loads(assert_clean(client.post("/staff/export/conversations", {"format": "json"})))
        assert len(data["conversations"]) >= 8
        # a correction of a hostile message, then the training data export
        event = scalar(seeded, "SELECT min(id) FROM events WHERE sender_id = 'conv-hostile' AND type_name = 'user'")
        assert client.post(f"/staff/conversations/{ids['hostile']}/correct",
                           {"event_id": str(event), "intent": "greet", "text": "hello \x00 there"}).status in (303, 400)
        assert_clean(client.post("/staff/corrections/export"))
        assert_clean(client.get("/staff/corrections"))

        client.logout_locally()
        client.login("ada")
        for cid in ids.values():
            assert_clean(client.post(f"/staff/conversations/{cid}/reveal"))
        assert_clean(client.post(f"/staff/requests/{rid}/reveal"))
        assert_clean(client.post("/staff/export/conversations", {"format": "csv", "reveal": "1"}))
        assert_clean(client.post("/staff/export/conversations", {"format": "json", "reveal": "1"}))
        assert_clean(client.get("/staff/audit"))


def test_summary_refresh_survives_hostile_rows(db_url):
    """The function under the start-up: a full rebuild over hostile rows."""
    from storage.engine import create_engine, migrate
    from webapp.staff.summary import Refresher

    from tests.webapp.conftest import save_conversations, session_start, turn

    t0 = day_ts(0, -90)
    save_conversations(db_url, {"ok": session_start(t0) + turn("hello", "greet", 0.9, t0 + 1, "utter_greet", "Hi")})
    senders = seed_hostile_events_only(db_url)
    engine = create_engine(db_url)
    try:
        migrate(engine, "staff")
        Refresher(engine).refresh()
        with engine.connect() as conn:
            rows = {r.sender_id: r for r in conn.execute(sa.select(t.conversations))}
            texts = [r[0] for r in conn.execute(sa.select(t.messages.c.text_norm))]
        assert set(senders.values()) | {"ok"} <= set(rows)
        assert rows["conv-hostile"].fallback and rows["conv-hostile"].channel.startswith("web")
        for text in texts:
            text.encode("utf-8")
            assert "\x00" not in text
    finally:
        engine.dispose()


def seed_hostile_events_only(url: str) -> dict:
    # the request tables are not needed for the summaries
    from tests.webapp.conftest import create_request_tables

    create_request_tables(url)
    return seed_hostile(url)


def test_hostile_timestamps_do_not_break_the_summaries(db_url):
    from storage.engine import create_engine, migrate
    from webapp.staff.summary import Refresher

    engine = create_engine(db_url)
    try:
        migrate(engine, "staff")
        with engine.begin() as conn:
            t.events.create(conn, checkfirst=True)
            for i, ts in enumerate([1e300, -1e300, float("inf"), None, 0.0, 253402300800.0]):
                conn.execute(t.events.insert().values(
                    sender_id=f"ts-{i}-{uuid.uuid4().hex[:4]}", type_name="user", timestamp=ts,
                    data=json.dumps({"event": "user", "text": "hi", "timestamp": ts})))
        Refresher(engine).refresh()
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(t.conversations)).scalar() >= 5
    finally:
        engine.dispose()

"""Staff console parts below the routes: migrations, summaries, masking, charts."""

from __future__ import annotations

import json

import sqlalchemy as sa

from tests.webapp.conftest import day_ts, save_conversations, session_start, turn
from webapp.staff import tables as t
from webapp.staff.charts import bar_chart, line_chart
from storage.engine import create_engine, migrate
from webapp.staff.masking import Masker, masker_for
from webapp.staff.summary import Refresher


def test_migrations_create_exactly_the_declared_tables(db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_engine(db_url)
    try:
        migrate(engine, "staff")
        migrate(engine, "staff")  # a second run is a no-op
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), t.staff)
            assert [d for d in diff if d[0] != "remove_table"] == []
            version = conn.execute(sa.text("SELECT version_num FROM alembic_version_staff")).scalar()
            assert version == "staff_0002"
            assert not sa.inspect(conn).has_table("alembic_version")  # Rasa's/others' untouched
    finally:
        engine.dispose()


def _summary(engine):
    with engine.connect() as conn:
        return {r.sender_id: r for r in conn.execute(sa.select(t.conversations))}


def test_summaries_follow_events_incrementally_and_idempotently(db_url):
    t0 = day_ts(1)
    save_conversations(db_url, {"a": session_start(t0) + turn("hello", "greet", 0.9, t0 + 1, "utter_greet", "Hi")})
    engine = create_engine(db_url)
    try:
        migrate(engine, "staff")
        refresher = Refresher(engine)
        refresher.refresh()
        first = _summary(engine)["a"]
        assert (first.n_user, first.n_bot, first.channel, first.fallback) == (1, 1, "socketio", False)
        refresher.refresh()  # nothing new: nothing changes
        assert _summary(engine)["a"] == first
        # the same conversation goes on, with a fallback on the second message
        save_conversations(db_url, {"a": session_start(t0) + turn("hello", "greet", 0.9, t0 + 1, "utter_greet", "Hi")
                                    + turn("qwxz", "ask_more", 0.2, t0 + 9, "action_default_fallback", "Sorry")})
        refresher.refresh()
        again = _summary(engine)["a"]
        assert again.id == first.id and again.n_user == 2 and again.fallback and again.min_confidence == 0.2
        with engine.connect() as conn:
            flags = dict(conn.execute(sa.select(t.messages.c.text_norm, t.messages.c.fallback)).all())
        assert flags == {"hello": False, "qwxz": True}
        # an event that committed late with an id below the last one seen is still picked up
        with engine.begin() as conn:
            late_id = conn.execute(sa.select(sa.func.max(t.events.c.id))).scalar() - 1
            conn.execute(t.events.update().where(t.events.c.id == late_id).values(sender_id="b"))
            conn.execute(t.events.insert().values(
                sender_id="c", type_name="user", timestamp=t0 + 20, intent_name="greet",
                data=json.dumps({"event": "user", "text": "hey", "timestamp": t0 + 20, "input_channel": "rest",
                                 "parse_data": {"intent": {"name": "greet", "confidence": 0.95}}})))
        refresher.refresh()
        assert {"a", "b", "c"} <= set(_summary(engine))
        # wiping the events table starts the summaries over
        with engine.begin() as conn:
            conn.execute(t.events.delete())
        refresher.refresh()
        assert _summary(engine) == {}
    finally:
        engine.dispose()


def test_masking():
    mask = masker_for({"booking_full_name": ["Anna Stone"], "booking_email": ["a.s@example.org"]}, [])
    assert mask("I am Anna Stone") == "I am ‹name›"
    assert mask("anna stone here") == "‹name› here"
    assert mask("Anna called about her kidney stone") == "‹name› called about her kidney stone"
    assert mask("write to a.s@example.org or x.y@test.co.uk") == "write to ‹email› or ‹email›"
    assert mask("ring 0151 2345 6789 or (030) 123-4567") == "ring ‹phone› or ‹phone›"
    assert mask("on 2024-05-01 or 01.05.2024 at 10:30") == "on 2024-05-01 or 01.05.2024 at 10:30"
    assert mask("My name is Bob Miller and I hurt") == "My name is ‹name› and I hurt"
    assert mask.slot("booking_email", "a.s@example.org") == "‹hidden›" and mask.slot("lesion_type", "kidney") == "kidney"
    assert Masker.off()("Anna Stone a.s@example.org") == "Anna Stone a.s@example.org"


def test_charts_escape_text_and_label_axes():
    svg = bar_chart("Top <b>things</b>", [("<script>alert(1)</script>", 3), ("ok", 1)], x_label="Count & more")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "Count &amp; more" in svg
    assert svg.count("<rect") == 2
    svg = line_chart("Per day", ["2024-01-01", "2024-01-02"], [("Messages", [1, 5])], y_label="Count")
    assert "<polyline" in svg and ">Count</text>" in svg and ">Day (UTC)</text>" in svg
    assert "01-02" in svg
    assert "No data in this period" in line_chart("Empty", [], [("x", [])], y_label="Count")


def test_events_table_matches_rasas_own():
    """Our description of Rasa's events table (storage/tables.py) matches Rasa's."""
    from rasa.core.tracker_store import SQLTrackerStore

    pairs = [(t.events, SQLTrackerStore.SQLEvent.__table__)]
    for mine, theirs in pairs:
        assert set(mine.columns.keys()) == set(theirs.columns.keys()), mine.name
        for column in mine.columns:
            other = theirs.columns[column.name]
            other_type = getattr(other.type, "impl", other.type)
            assert type(column.type) is type(other_type), (mine.name, column.name)
            assert getattr(column.type, "length", None) == getattr(other_type, "length", None)
            assert column.nullable == other.nullable, (mine.name, column.name)
            assert column.primary_key == other.primary_key, (mine.name, column.name)

"""Staff console test fixtures: real databases (a SQLite file and a scratch PostgreSQL
database), tracker data written by Rasa's own SQLTrackerStore, and a Sanic test
client on a free loopback port.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Dict, List, Optional

import pytest
import sqlalchemy as sa

from webapp.settings import WebSettings
from tests.support import free_port

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
PASSWORD = "correct horse battery staple"
# "Today's" conversations are seeded relative to the moment the tests start, never at a
# fixed hour: an event later than the real clock is not purged by "forget me" (its cut-off
# is now), so a fixed noon made deletion tests fail every morning. Two hours back leaves
# room for the minutes the latest seeded turn (day_ts(0, 45)) adds.
NOW = (datetime.now(timezone.utc) - timedelta(hours=2)).replace(second=0, microsecond=0)


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing():
    """Argon2 at its production cost takes ~0.3 s per hash on this machine and these
    tests log in hundreds of times: they use a cheap Argon2id. Yields the production hasher."""
    from argon2 import PasswordHasher

    from webapp.staff import accounts

    production = accounts._hasher
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    accounts._dummy_hash.cache_clear()
    yield production
    accounts._hasher = production
    accounts._dummy_hash.cache_clear()


# --- databases ------------------------------------------------------------------

def _pg_admin():
    import psycopg2

    conn = psycopg2.connect(f"{PG_SERVER}/postgres")
    conn.autocommit = True
    return conn


def _create_pg_database(template: Optional[str] = None) -> str:
    name = f"test_staff_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin()
    try:
        with admin.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    finally:
        admin.close()
    return name


def _drop_pg_database(name: str) -> None:
    admin = _pg_admin()
    try:
        with admin.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
    finally:
        admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """An empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'assistant.db'}"
        return
    name = _create_pg_database()
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        _drop_pg_database(name)


def _seed(url: str) -> None:
    create_request_tables(url)
    save_conversations(url, standard_conversations())
    create_account(url, "ada", "admin")
    create_account(url, "rita", "reviewer")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "seeded.db"
    _seed(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template():
    name = _create_pg_database()
    try:
        _seed(f"{PG_SERVER}/{name}")
        yield name
    finally:
        _drop_pg_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def seeded(request, tmp_path):
    """A database with the standard conversations, the request tables and two accounts
    (ada: admin, rita: reviewer), copied from a template seeded once per test session."""
    if request.param == "sqlite":
        path = tmp_path / "assistant.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    name = _create_pg_database(template=request.getfixturevalue("pg_template"))
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        _drop_pg_database(name)


def create_request_tables(url: str) -> None:
    """The action server's request tables, made by its own migrations."""
    from storage.requests import RequestStore

    store = RequestStore(url)
    try:
        store.migrate()
    finally:
        store.dispose()


# --- tracker data ------------------------------------------------------------------

def user(text: str, intent: str, confidence: float, ts: float, channel: str = "socketio",
         entities: Optional[List[dict]] = None):
    from rasa.shared.core.events import UserUttered

    parse = {"text": text, "intent": {"name": intent, "confidence": confidence},
             "entities": entities or [], "intent_ranking": [{"name": intent, "confidence": confidence}]}
    return UserUttered(text, intent=parse["intent"], entities=entities or [], parse_data=parse,
                       timestamp=ts, input_channel=channel)


def turn(text, intent, confidence, ts, action, reply, channel="socketio", entities=None, slots=None,
         buttons=None):
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet

    events = [user(text, intent, confidence, ts, channel, entities),
              ActionExecuted(action, policy="RulePolicy", confidence=1.0, timestamp=ts + 0.1)]
    for i, (name, value) in enumerate((slots or {}).items()):
        events.append(SlotSet(name, value, timestamp=ts + 0.2 + i / 100))
    events.append(BotUttered(reply, {"buttons": buttons} if buttons else {}, timestamp=ts + 0.3))
    events.append(ActionExecuted("action_listen", timestamp=ts + 0.4))
    return events


def session_start(ts: float):
    from rasa.shared.core.events import ActionExecuted, SessionStarted

    return [ActionExecuted("action_session_start", timestamp=ts), SessionStarted(timestamp=ts + 0.01),
            ActionExecuted("action_listen", timestamp=ts + 0.02)]


def save_conversations(url: str, conversations: Dict[str, list]) -> None:
    """Write trackers with Rasa's own SQLTrackerStore (the real `events` table)."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.trackers import DialogueStateTracker

    store = SQLTrackerStore(host=url)
    try:
        loop = asyncio.new_event_loop()
        try:
            for sender, events in conversations.items():
                loop.run_until_complete(store.save(DialogueStateTracker.from_events(sender, events)))
        finally:
            loop.close()
    finally:
        store.engine.dispose()


def day_ts(days_ago: int, minutes: int = 0) -> float:
    return (NOW - timedelta(days=days_ago) + timedelta(minutes=minutes)).timestamp()


SCRIPT = "<script>alert('xss')</script> how is it treated"


def standard_conversations() -> Dict[str, list]:
    t0 = day_ts(2)
    t1 = day_ts(1)
    t2 = day_ts(0)
    t3 = day_ts(0, 30)
    t4 = day_ts(10)
    return {
        "conv-fallback": session_start(t0) + turn(
            "blorp wibble zzz", "nlu_fallback", 0.31, t0 + 1, "action_two_stage_fallback",
            "Sorry, I'm not sure I understood. Did you mean one of these?",
            buttons=[{"title": "Treatment options", "payload": "/ask_treatment"}])
        + turn("/out_of_scope", "out_of_scope", 1.0, t0 + 5, "utter_out_of_scope", "I can only help with the guide."),
        "conv-emergency": session_start(t1) + turn(
            "I have crushing chest pain and cannot breathe", "report_emergency", 0.99, t1 + 1,
            "action_give_emergency_advice", "Call 112 now.", channel="telegram"),
        "conv-booking": session_start(t2) + turn(
            "I want to book an appointment", "request_appointment", 0.95, t2 + 1, "utter_booking_coming",
            "Sure. What is your full name?")
        + turn("my name is Anna Stone", "inform", 0.9, t2 + 5, "action_listen_form", "Thanks. Your e-mail?",
               slots={"booking_full_name": "Anna Stone"})
        + turn("anna.stone@example.org, or call +49 151 12345678", "inform", 0.88, t2 + 9, "action_listen_form",
               "Thank you Anna Stone, we will contact you at anna.stone@example.org.",
               slots={"booking_email": "anna.stone@example.org", "booking_phone": "+4915112345678"}),
        "conv-script": session_start(t3) + turn(
            SCRIPT, "ask_treatment", 0.42, t3 + 1, "action_answer_question", "Treatment depends on the type.",
            channel="rest",
            entities=[{"entity": "treatment", "value": "surgery", "start": 0, "end": 8, "extractor": "Guide"}]),
        "conv-old": session_start(t4) + turn(
            "what are calcified lesions", "ask_definition", 0.98, t4 + 1, "action_answer_question",
            "Calcified lesions are deposits of calcium.", channel="rest",
            entities=[{"entity": "lesion_type", "value": "calcified lesions", "start": 9, "end": 26,
                       "extractor": "Guide"}]),
    }


def insert_request(url: str, conversation_id: str, reference: str, kind: str = "appointment",
                   status: str = "new", **extra) -> int:
    from webapp.staff import tables as t

    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            values = dict(reference=reference, kind=kind, status=status, conversation_id=conversation_id,
                          channel="socketio", idempotency_key=uuid.uuid4().hex, created_at=NOW,
                          updated_at=NOW, notify_attempts=0, specialist="urologist",
                          full_name="Anna Stone", email="anna.stone@example.org", phone="+4915112345678",
                          preferred_time_text="Tuesday morning")
            values.update(extra)
            return conn.execute(t.requests.insert().values(**values)).inserted_primary_key[0]
    finally:
        engine.dispose()


# --- the app and a client -------------------------------------------------------------

def make_app(settings: WebSettings):
    from webapp.app import create_app

    return create_app(settings)


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class Client:
    """A logged-in (or not) browser-like client: cookies kept, CSRF tokens read from pages."""

    def __init__(self, app) -> None:
        from sanic_testing.reusable import ReusableClient

        self.app = app
        self.raw = ReusableClient(app, port=free_port())
        self.csrf = ""

    def __enter__(self) -> "Client":
        self.raw.run()
        return self

    def __exit__(self, *exc) -> None:
        self.raw.stop()

    @property
    def cookies(self):
        return self.raw._session.cookies

    def get(self, path: str, **kwargs):
        kwargs.setdefault("allow_redirects", False)
        _, resp = self.raw.get(path, **kwargs)
        match = CSRF_RE.search(resp.text or "")
        if match and "/staff/login" not in path:
            self.csrf = match.group(1)
        return resp

    def post(self, path: str, data: Optional[dict] = None, csrf: bool = True, **kwargs):
        data = dict(data or {})
        if csrf and "csrf_token" not in data:
            data["csrf_token"] = self.csrf
        kwargs.setdefault("allow_redirects", False)
        _, resp = self.raw.post(path, data=data, **kwargs)
        return resp

    def login(self, username: str, password: str = PASSWORD, expect: int = 303):
        page = self.get("/staff/login")
        token = CSRF_RE.search(page.text).group(1)
        resp = self.post("/staff/login", {"username": username, "password": password, "csrf_token": token},
                         csrf=False)
        assert resp.status == expect, resp.text[:500]
        if expect == 303:
            self.get("/staff/")  # picks up the session's CSRF token
        return resp

    def logout_locally(self) -> None:
        self.cookies.clear()
        self.csrf = ""


def create_account(url: str, username: str, role: str, password: str = PASSWORD) -> None:
    from webapp.staff.accounts import create_user
    from storage.engine import create_engine, migrate

    engine = create_engine(url)
    try:
        migrate(engine, "staff")
        with engine.begin() as conn:
            create_user(conn, username, password, role, actor="test")
    finally:
        engine.dispose()


@pytest.fixture
def settings(seeded):
    return WebSettings(database_url=seeded, rasa_url="http://localhost:5005", port=0,
                       staff_page_size=20)


@pytest.fixture
def client(settings):
    with Client(make_app(settings)) as c:
        yield c


def engine_for(url: str):
    from storage.engine import create_engine

    return create_engine(url)


def scalar(url: str, query, **params):
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            return conn.execute(query if not isinstance(query, str) else sa.text(query), params).scalar()
    finally:
        engine.dispose()


def with_settings(settings: WebSettings, **changes) -> WebSettings:
    return replace(settings, **changes)

"""The widget's routes in the web app: pages, scripts, and the history endpoint on real databases.

Conversations are written by Rasa's own SQLTrackerStore (SQLite file and a scratch
PostgreSQL database), then read back through ``POST /widget/history``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from sanic import Sanic

from webapp.app import create_app
from webapp.widget import create_blueprint
from webapp.settings import WebSettings
from storage.ids import widget_session_id as session_id_for
from webapp.widget.history import RateLimit, messages_from_events

ROOT = Path(__file__).resolve().parents[2]
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
TOKEN = "a1" * 32
BUTTONS = [{"title": "Brain Calcifications", "payload": '/ask_followup{"lesion_type":"brain_calcifications"}'},
           {"title": "Soft Tissue Calcifications", "payload": '/ask_followup{"lesion_type":"soft_tissue"}'}]


def settings_for(database_url: str, **changes) -> WebSettings:
    base = WebSettings.from_env({"DATABASE_URL": database_url, "RASA_PUBLIC_URL": "https://rasa.clinic.example"})
    return replace(base, **changes)


_apps = itertools.count()


def widget_app(settings: WebSettings) -> Sanic:
    """Just the widget's blueprint (the staff console has its own tests and start-up work)."""
    app = Sanic(f"widget_test_{next(_apps)}")
    app.blueprint(create_blueprint(settings))
    return app


def request(app, method: str, path: str, **kwargs):
    async def run():
        _, response = await getattr(app.asgi_client, method)(path, **kwargs)
        return response

    return asyncio.run(run())


def history(app, token=TOKEN, raw=None):
    body = raw if raw is not None else json.dumps({"token": token})
    return request(app, "post", "/widget/history", content=body, headers={"Content-Type": "application/json"})


BASE_TIME = round(time.time()) - 3600  # turn i happened at BASE_TIME + i (relative to now: any date works)


def save_conversation(database_url: str, sender_id: str, turns) -> None:
    """Write a conversation with Rasa's SQLTrackerStore, as the running assistant does."""
    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    url = sa.engine.make_url(database_url)
    store = SQLTrackerStore(dialect=url.get_backend_name(), host=url.host, port=url.port, db=url.database,
                            username=url.username, password=url.password)
    events = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
    for number, (kind, text, extra) in enumerate(turns):
        when = BASE_TIME + number
        if kind == "user":
            events += [UserUttered(text, {"name": "ask_types", "confidence": 0.9}, input_channel="socketio",
                                   timestamp=when)]
        else:
            events += [BotUttered(text, data={"buttons": extra} if extra else {}, timestamp=when),
                       ActionExecuted("action_listen", timestamp=when)]
    asyncio.run(store.save(DialogueStateTracker.from_events(sender_id, events)))
    store.engine.dispose()


CONVERSATION = [
    ("user", "what types are there?", None),
    ("bot", "Disclaimer first.\n\nThere are several types:\nChoose one.", BUTTONS),
    ("user", BUTTONS[0]["payload"], None),
    ("bot", "Calcifications can occur in the brain.", None),
    ("user", "<img src=x onerror=alert(1)>", None),
]
EXPECTED = [
    {"sender": "user", "text": "what types are there?"},
    {"sender": "bot", "text": "Disclaimer first."},
    {"sender": "bot", "text": "There are several types:\nChoose one.", "buttons": BUTTONS},
    {"sender": "user", "text": "Brain Calcifications"},
    {"sender": "bot", "text": "Calcifications can occur in the brain."},
    {"sender": "user", "text": "<img src=x onerror=alert(1)>"},
]


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'assistant.db'}"


@pytest.fixture
def postgres_url():
    import psycopg2

    name = f"test_channels_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(f"{PG_SERVER}/postgres")
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.mark.parametrize("database", ["sqlite_url", "postgres_url"])
def test_history_returns_the_visitors_own_conversation(request, database):
    url = request.getfixturevalue(database)
    save_conversation(url, session_id_for(TOKEN), CONVERSATION)
    save_conversation(url, session_id_for("b2" * 32), [("user", "someone else's question", None)])
    app = widget_app(settings_for(url))
    response = history(app)
    assert response.status == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["cache-control"] == "no-store"
    messages = response.json["messages"]
    assert response.json == {"session_id": session_id_for(TOKEN), "messages": messages, "history": "ok"}
    assert [{k: v for k, v in m.items() if k != "time"} for m in messages] == EXPECTED
    # each message with its turn's time (Unix seconds), which the widget shows
    assert [m["time"] - BASE_TIME for m in messages] == [0, 1, 1, 2, 3, 4]


def test_knowing_a_sender_id_is_not_enough_to_read_a_conversation(sqlite_url):
    sender = session_id_for(TOKEN)
    save_conversation(sqlite_url, sender, CONVERSATION)
    app = widget_app(settings_for(sqlite_url))
    stolen = history(app, token=sender)  # the sender_id as seen in the database or the staff console
    assert stolen.status == 200 and stolen.json["messages"] == []
    assert stolen.json["session_id"] != sender


def test_history_is_limited_to_the_newest_messages(sqlite_url):
    turns = [("user", f"question {i}", None) for i in range(30)]
    save_conversation(sqlite_url, session_id_for(TOKEN), turns)
    app = widget_app(settings_for(sqlite_url, widget_history_limit=5))
    assert [m["text"] for m in history(app).json["messages"]] == [f"question {i}" for i in range(25, 30)]


def test_no_database_yet_means_an_empty_history_and_no_file_created(tmp_path):
    url = f"sqlite:///{tmp_path / 'not-yet.db'}"
    from webapp.widget.history import HistoryStore

    assert HistoryStore(url, 10).read(session_id_for(TOKEN)) == []
    assert not (tmp_path / "not-yet.db").exists()


def test_a_database_without_rasas_table_means_an_empty_history(sqlite_url):
    import sqlalchemy as sa

    sa.create_engine(sqlite_url).connect().close()
    app = widget_app(settings_for(sqlite_url))
    assert history(app).json["messages"] == []


def test_an_unreachable_database_still_gives_a_session(sqlite_url):
    app = widget_app(settings_for("postgresql://postgres@127.0.0.1:1/nothing"))
    response = history(app)
    assert response.status == 200
    assert response.json == {"session_id": session_id_for(TOKEN), "messages": [], "history": "unavailable"}


@pytest.mark.parametrize("raw, status", [
    ("", 400), ("{bad json", 400), ("[]", 400), ('"token"', 400), ("{}", 400), ('{"token": 5}', 400),
    ('{"token": "short"}', 400), ('{"token": "' + "x" * 129 + '"}', 400),
    ('{"token": "' + "é" * 40 + '"}', 400), ('{"token": "' + "a" * 40 + '\\n"}', 400), ('{"token": "' + "a" * 31 + '/"}', 400),
    ('{"token": "' + "a" * 5000 + '"}', 413),
])
def test_bad_history_requests_get_a_clear_error(sqlite_url, raw, status):
    app = widget_app(settings_for(sqlite_url))
    response = history(app, raw=raw)
    assert response.status == status
    assert "error" in response.json
    assert response.headers["access-control-allow-origin"] == "*"


def test_binary_history_body_is_a_400(sqlite_url):
    app = widget_app(settings_for(sqlite_url))
    assert history(app, raw=b"\xff\xfe\x00\x01").status == 400


def test_history_is_rate_limited_per_client(sqlite_url):
    app = widget_app(settings_for(sqlite_url, widget_history_per_minute=3))
    statuses = [history(app).status for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]


def test_rate_limit_windows_and_keys():
    now = [120.0]
    limit = RateLimit(2, clock=lambda: now[0])
    assert [limit.allow("a"), limit.allow("a"), limit.allow("a"), limit.allow("b")] == [True, True, False, True]
    now[0] += 60
    assert limit.allow("a")


def test_cors_preflight(sqlite_url):
    app = widget_app(settings_for(sqlite_url))
    response = request(app, "options", "/widget/history",
                       headers={"Origin": "https://clinic.example", "Access-Control-Request-Method": "POST"})
    assert response.status == 204
    assert response.headers["access-control-allow-methods"] == "POST, OPTIONS"
    assert response.headers["access-control-allow-headers"] == "Content-Type"


def test_patient_page_widget_script_and_health(sqlite_url):
    app = create_app(settings_for(sqlite_url, clinic_name="St Mary's Vascular Clinic", clinic_phone="020 7946 0000",
                                  emergency_number="999"))
    assert request(app, "get", "/health").text == "ok"
    page = request(app, "get", "/")
    assert page.status == 200
    assert 'src="/widget.js" data-target="#assistant-chat"' in page.text
    assert "St Mary&#39;s Vascular Clinic" in page.text and 'href="tel:02079460000"' in page.text
    assert '<a href="tel:999">999</a>' in page.text  # the emergency number to tap, before the chat
    assert "&lt;script" not in page.text and "data-socket-url" not in page.text  # the snippet is in the docs
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "connect-src 'self' https://rasa.clinic.example wss://rasa.clinic.example" in csp
    script = request(app, "get", "/widget.js")
    assert script.headers["content-type"].startswith("application/javascript")
    defaults = json.loads(script.text.split("var DEFAULTS = ", 1)[1].split(";\n", 1)[0])
    assert defaults["socketUrl"] == "https://rasa.clinic.example" and defaults["socketPath"] == "/socket.io"
    assert len(defaults["suggestions"]) == 4 and defaults["emergencyNumber"]
    assert (defaults["title"], defaults["greeting"], defaults["color"]) == ("Clinic assistant", "", "#0b4f8a")
    assert "__WIDGET_DEFAULTS__" not in script.text
    assert "innerHTML" not in script.text  # every text goes in as text
    assert request(app, "get", "/widget.css").headers["content-type"].startswith("text/css")


def test_settings_cannot_break_out_of_the_script_or_the_page(sqlite_url):
    hostile = '</script><script>alert(1)//"'
    app = widget_app(settings_for(sqlite_url, rasa_url="https://x.example/" + hostile, widget_title=hostile,
                                  widget_greeting=hostile, clinic_name=hostile, clinic_phone=hostile))
    script = request(app, "get", "/widget.js").text
    assert "</script>" not in script.split("var DEFAULTS = ", 1)[1].split(";\n", 1)[0]
    page = request(app, "get", "/").text
    assert "<script>alert(1)" not in page and "&lt;/script&gt;&lt;script&gt;alert(1)//&#34;" in page


@pytest.mark.parametrize("colour, accepted", [("#0b4f8a", True), ("#7A1F5C", True), ("#116329", True), ("#1a7f37", False),
                                              ("#ffcc00", False), ("#2f81f7", False), ("blue", False),
                                              ("#0b4f8", False), ("#0b4f8a; x", False)])
def test_a_clinic_colour_must_keep_text_readable(colour, accepted):
    env = {"WIDGET_COLOR": colour}
    if accepted:
        assert WebSettings.from_env(env).widget_color == colour.lower()
    else:
        with pytest.raises(ValueError, match="WIDGET_COLOR"):
            WebSettings.from_env(env)


def test_clinic_texts_come_from_the_environment():
    settings = WebSettings.from_env({"WIDGET_TITLE": "Vascular team", "WIDGET_GREETING": "Hi, I am the bot.",
                                     "CLINIC_NAME": "St Mary's", "CLINIC_PHONE": "020 7946 0000"})
    assert (settings.widget_title, settings.widget_greeting, settings.clinic_name, settings.clinic_phone) == (
        "Vascular team", "Hi, I am the bot.", "St Mary's", "020 7946 0000")
    defaults = WebSettings.from_env({})
    assert (defaults.widget_title, defaults.widget_greeting, defaults.clinic_name) == (
        "Clinic assistant", "", "The clinic")


def test_socket_io_client_is_served_from_node_modules(sqlite_url, tmp_path):
    installed = ROOT / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
    assert installed.is_file(), "run `npm ci` (make test does) to install socket.io-client"
    app = widget_app(settings_for(sqlite_url))
    response = request(app, "get", "/static/vendor/socket.io.min.js")
    assert response.status == 200 and response.body == installed.read_bytes()
    missing = widget_app(settings_for(sqlite_url, node_modules=str(tmp_path)))
    response = request(missing, "get", "/static/vendor/socket.io.min.js")
    assert response.status == 503 and "npm ci" in response.text
    assert request(app, "get", "/static/vendor/../../package.json").status == 404


def test_events_that_are_not_messages_or_are_broken_are_skipped():
    rows = [("bot", "not json"), ("bot", "[1, 2]"), ("user", json.dumps({"event": "user", "text": None})),
            ("bot", json.dumps({"event": "bot", "text": "", "data": {"buttons": [{"title": 1}]}})),
            ("bot", json.dumps({"event": "bot", "text": "Hi", "data": {"quick_replies": [
                {"title": "Yes", "payload": "/affirm"}, {"title": "broken"}]}}))]
    assert messages_from_events(rows) == [{"sender": "bot", "text": "Hi",
                                           "buttons": [{"title": "Yes", "payload": "/affirm"}]}]


def test_history_shows_any_stored_text_repaired(sqlite_url):
    """Finding 2: rows stored before the input guard (lone surrogates, NUL, megabytes)."""
    import sqlalchemy as sa

    sender = session_id_for(TOKEN)
    save_conversation(sqlite_url, sender, [("user", "first", None)])
    engine = sa.create_engine(sqlite_url)
    with engine.begin() as db:
        for text in ("kidney \udc00 stones\u0000", "x" * 1_000_000):
            db.execute(sa.text("INSERT INTO events (sender_id, type_name, timestamp, data) "
                               "VALUES (:s, 'user', 1, :d)"), {"s": sender, "d": json.dumps({"text": text})})
    response = history(widget_app(settings_for(sqlite_url)))
    assert response.status == 200
    texts = [m["text"] for m in response.json["messages"]]
    assert texts[:2] == ["first", "kidney \ufffd stones\ufffd"]
    assert len(texts[2]) <= 10_001


def test_history_marks_the_emergency_advice_and_staff_messages():
    emergency = {"event": "bot", "text": "Chest pain can be an emergency.\n\nCall now.",
                 "metadata": {"utter_action": "utter_emergency"}}
    staff = {"event": "bot", "text": "Hello, front desk here.", "metadata": {"author": "staff", "staff": "dora"}}
    rows = [("bot", json.dumps(emergency)), ("bot", json.dumps(staff))]
    assert messages_from_events(rows, "112") == [
        {"sender": "bot", "text": "Chest pain can be an emergency.\n\nCall now.", "kind": "emergency", "call": "112"},
        {"sender": "bot", "text": "Hello, front desk here.", "author": "staff", "staff": "dora"}]
    assert "call" not in messages_from_events(rows, "")[0]  # EMERGENCY_NUMBER in words: nothing to dial


def test_a_clinic_sets_the_greetings_questions(sqlite_url):
    from webapp.settings import WebSettings

    settings = WebSettings.from_env({"DATABASE_URL": sqlite_url, "WIDGET_SUGGESTIONS": "Is it cancer? | | Do I need surgery?",
                                     "EMERGENCY_NUMBER": "999"})
    assert settings.widget_suggestions == ("Is it cancer?", "Do I need surgery?")
    script = request(widget_app(replace(settings, rasa_url="https://rasa.clinic.example")), "get", "/widget.js").text
    defaults = json.loads(script.split("var DEFAULTS = ", 1)[1].split(";\n", 1)[0])
    assert defaults["suggestions"] == ["Is it cancer?", "Do I need surgery?"] and defaults["emergencyNumber"] == "999"

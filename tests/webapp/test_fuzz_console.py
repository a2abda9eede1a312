"""Property-based fuzzing of the staff console with Hypothesis.

- Every console route (enumerated from the app, so new routes are fuzzed too), as a
  reviewer and as an admin, with a valid CSRF token where a form needs one, gets query
  strings and form fields of arbitrary text: lone surrogates and invalid UTF-8, NUL and
  other control characters, huge values. Never a 500, and every answer is valid UTF-8.
- Masking, the summary (events -> summary rows) and the exports over arbitrary Unicode:
  never an exception, output always encodable as UTF-8, and masking never shows a
  declared personal value.

Runs are reproducible (derandomize=True) and the whole file takes well under a minute
on two cores (max_examples below).
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from pathlib import Path
from typing import List, Tuple
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from storage.personal_data import EMAIL, FREE_TEXT, NAME, PERSONAL_SLOTS, PHONE
from tests.webapp.conftest import (PG_SERVER, Client, _create_pg_database, _drop_pg_database, create_account,
                                   day_ts, engine_for, insert_request, make_app)
from webapp.settings import WebSettings
from webapp.staff import tables as t

STAFF = Path(__file__).resolve().parents[2] / "webapp" / "staff"
FUZZ = settings(derandomize=True, deadline=None, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much])

# Any code point: surrogates (Cs), NUL and controls (Cc), unassigned ones (Cn) included;
# Hypothesis draws surrogates rarely on its own, so they and NUL are drawn on purpose too.
ANY_CHAR = st.one_of(st.characters(codec=None, exclude_categories=()), st.characters(categories=["Cs"]),
                     st.sampled_from(["\x00", "\x1b", "\x85", "\u202e", "\ufeff", "\uffff"]))


def any_text(max_size: int) -> st.SearchStrategy[str]:
    # not st.text(ANY_CHAR): it merges the alphabets and loses the surrogates on the way
    return st.lists(ANY_CHAR, max_size=max_size).map("".join)


ANY_TEXT = any_text(40)
INTERESTING = ["", "yes", "no", "1", "0", "-1", "admin", "reviewer", "csv", "json", "new", "contacted",
               "closed", "appointment", "handoff", "second_opinion", "greet", "ask_treatment", "-", "rita", "ada",
               "2024-01-01", "9999-12-31", "0001-01-01", "1e308", "NaN", "99999999999999999999", "%", "_",
               "[surgery](treatment)", "[x](no_entity", "/staff/requests", "//evil.example", "\x00", "\udc00",
               "a long enough password", "' OR '1'='1", "<script>alert(1)</script>"]
HUGE = st.builds(lambda unit, n: unit * n, st.sampled_from(["a", "9", "\x00", "\udc00", "x@", "1 ", "](", "é"]),
                 st.sampled_from([300, 3000]))
HUGE_FORM = st.builds(lambda unit, n: unit * n, st.sampled_from(["a", "\x00", "\udc00", "x@", "1 "]),
                      st.sampled_from([20_000, 90_000]))


def field_names() -> List[str]:
    """Names of the query and form fields the console reads: the templates' inputs and
    the code's readers, so a new field is fuzzed without editing this file."""
    names = set()
    for template in (STAFF / "templates").glob("*.html"):
        names |= set(re.findall(r'name="([A-Za-z_]\w*)"', template.read_text(encoding="utf-8")))
    for module in STAFF.glob("*.py"):
        source = module.read_text(encoding="utf-8")
        names |= set(re.findall(r'(?:_field|_arg)\(\w+, "(\w+)"', source))
        names |= set(re.findall(r'args\.get(?:list)?\("(\w+)"\)', source))
        names |= set(re.findall(r'\bget\("(\w+)"(?:, \d+)?\)', source))
    return sorted(names)


FIELDS = field_names()


def test_field_names_are_found():
    assert {"q", "from", "to", "page", "status", "assigned", "note", "tag", "event_id", "intent", "text",
            "body", "username", "password", "role", "format", "confirm", "next", "csrf_token"} <= set(FIELDS)


def console_routes(app) -> List[Tuple[str, str, str]]:
    """(name, method, path pattern) of every route of the console."""
    found = []
    for route in app.router.routes:
        if not route.path.startswith("staff"):
            continue
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            found.append((route.name.rsplit(".", 1)[-1], method, "/" + route.path))
    return sorted(found)


def encode(value: str) -> str:
    # what a hostile client can send: any bytes, here the UTF-8 of the text with lone
    # surrogates encoded as they are (invalid UTF-8), percent-encoded
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def form_body(fields: List[Tuple[str, str]]) -> bytes:
    return "&".join(f"{encode(k)}={encode(v)}" for k, v in fields).encode("ascii")


# --- the HTTP fuzz --------------------------------------------------------------------

class Staff:
    """One logged-in account of the fuzzing client: its session cookie and CSRF token,
    renewed when the fuzz logs it out, changes its password or locks its login."""

    def __init__(self, client: Client, url: str, username: str, role: str) -> None:
        self.client, self.url, self.username, self.role = client, url, username, role
        self.cookie, self.csrf = "", ""

    def activate(self) -> None:
        if not self.cookie:
            engine = engine_for(self.url)
            try:
                with engine.begin() as conn:
                    conn.execute(t.login_failures.delete())
            finally:
                engine.dispose()
            create_account_reset(self.url, self.username, self.role)
            self.client.logout_locally()
            self.client.login(self.username)
            self.cookie = self.client.cookies.get("staff_session")
            self.csrf = self.client.csrf
        self.client.cookies.clear()
        self.client.cookies.set("staff_session", self.cookie, domain="127.0.0.1", path="/staff")
        self.client.csrf = self.csrf

    def after(self, resp) -> None:
        location = resp.headers.get("location", "")
        if resp.status == 401 or location.startswith("/staff/login"):
            self.cookie = ""


def create_account_reset(url: str, username: str, role: str) -> None:
    from tests.webapp.conftest import PASSWORD
    from webapp.staff.accounts import create_user

    engine = engine_for(url)
    try:
        with engine.begin() as conn:
            create_user(conn, username, PASSWORD, role, actor="fuzz", reset=True)
    finally:
        engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fuzz_console(request, tmp_path_factory):
    """A seeded database of each kind, a running console and two accounts."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("fuzz") / "assistant.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url, name = f"sqlite:///{path}", None
    else:
        name = _create_pg_database(template=request.getfixturevalue("pg_template"))
        url = f"{PG_SERVER}/{name}"
    try:
        insert_request(url, "conv-booking", "CL-FUZZ01", note="call after five")
        create_account(url, "fuzzer", "admin")  # a second admin, so ada can be demoted too
        app = make_app(WebSettings(database_url=url, rasa_url="", port=0, staff_page_size=10))
        with Client(app) as client:
            yield client, url, {"reviewer": Staff(client, url, "rita", "reviewer"),
                                "admin": Staff(client, url, "ada", "admin")}
    finally:
        if name:
            _drop_pg_database(name)


ID = st.one_of(st.sampled_from([1, 2, 3, 4, 5]), st.sampled_from([0, -1, 2**31, 10**25]))
PER_ROUTE = 20  # examples per route and database (about 10 ms each)


@st.composite
def requests_(draw, method: str, pattern: str):
    path = re.sub(r"<[^>]+:int>", lambda _: str(draw(ID)), pattern)
    path = re.sub(r"<[^>]+>", lambda _: encode(draw(st.one_of(st.sampled_from(["console.css", "..", "."]),
                                                                  ANY_TEXT.filter(bool)))), path)
    name = st.one_of(st.sampled_from(FIELDS), ANY_TEXT)
    fields = draw(st.lists(st.tuples(name, st.one_of(ANY_TEXT, st.sampled_from(INTERESTING))), max_size=5))
    if draw(st.integers(0, 4)) == 0:  # now and then one huge value (some beyond the size limits: 413)
        fields.append((draw(name), draw(HUGE_FORM if method == "POST" else HUGE)))
    with_csrf = draw(st.integers(0, 9)) > 0
    return draw(st.sampled_from(["reviewer", "admin"])), path, draw(st.permutations(fields)), with_csrf


def test_every_route_with_arbitrary_input_never_fails(fuzz_console):
    client, url, staff = fuzz_console
    routes = console_routes(client.app)
    assert len(routes) >= 29 and {"conversation_list", "export_conversations", "static"} <= {r[0] for r in routes}

    def send(method: str, case) -> None:
        role, path, fields, with_csrf = case
        account = staff[role]
        account.activate()
        if method == "GET":
            query = "&".join(f"{encode(k)}={encode(v)}" for k, v in fields)
            _, resp = client.raw.get(path + ("?" + query if query else ""), allow_redirects=False, timeout=60)
        else:
            if with_csrf:
                fields = [("csrf_token", account.csrf)] + [f for f in fields if f[0] != "csrf_token"]
            _, resp = client.raw.post(path, content=form_body(fields), allow_redirects=False, timeout=60,
                                      headers={"content-type": "application/x-www-form-urlencoded"})
        assert resp.status < 500, (role, method, path, fields[:3], resp.status, resp.text[:300])
        resp.content.decode("utf-8")  # strict: the answer is valid UTF-8
        account.after(resp)

    for name, method, pattern in routes:  # each route gets its share of examples
        settings(FUZZ, max_examples=PER_ROUTE)(given(requests_(method, pattern))(
            lambda case: send(method, case)))()


# --- functions over arbitrary Unicode ---------------------------------------------------

def _encodable(text: str) -> None:
    assert isinstance(text, str)
    text.encode("utf-8")
    assert "\x00" not in text


@settings(FUZZ, max_examples=300)
@given(text=st.one_of(ANY_TEXT, any_text(400), HUGE),
       values=st.dictionaries(st.sampled_from(sorted(PERSONAL_SLOTS)), st.lists(ANY_TEXT, max_size=3), max_size=5),
       lowercase=st.booleans())
def test_masking_never_fails_and_always_encodes(text, values, lowercase):
    from webapp.staff.masking import Masker, masker_for

    mask = masker_for(values, [], lowercase=lowercase)
    _encodable(mask(text))
    _encodable(Masker.off()(text))
    for slot in list(values) + ["lesion_type"]:
        _encodable(mask.slot(slot, text))
        _encodable(mask.entity(slot, [text, {"k": text}]))


# realistic personal values: letters of any script, digits and the signs of addresses
PERSONAL_CHAR = st.one_of(st.characters(categories=("Lu", "Ll", "Nd")), st.sampled_from(" .-@+'"))
TOKENS = "‹email› ‹phone› ‹name› ‹hidden›"
KIND_SLOT = {NAME: "booking_full_name", EMAIL: "booking_email", PHONE: "booking_phone", FREE_TEXT: "booking_note"}


@settings(FUZZ, max_examples=400)
@given(kind=st.sampled_from(sorted(KIND_SLOT)), value=st.text(PERSONAL_CHAR, min_size=2, max_size=40),
       prefix=any_text(30), suffix=any_text(30), request_field=st.booleans())
def test_masking_never_shows_a_declared_value(kind, value, prefix, suffix, request_field):
    """A declared value, standing as words of its own in any text, never shows."""
    from types import SimpleNamespace

    from webapp.staff.masking import MIN_VALUE, masker_for

    value = " ".join(value.split())
    assume(len(value) >= (2 if kind == NAME else MIN_VALUE))
    assume(value not in prefix and value not in suffix and value.lower() not in TOKENS)
    text = f"{prefix} {value} {suffix}"
    if request_field:
        field = {NAME: "full_name", EMAIL: "email", PHONE: "phone", FREE_TEXT: "note"}[kind]
        mask = masker_for({}, [SimpleNamespace(**{field: value})])
    else:
        mask = masker_for({KIND_SLOT[kind]: [value]}, [])
    shown = mask(text)
    assert value not in shown, (text, shown)
    assert mask.slot(KIND_SLOT[kind], value) == "‹hidden›"


JSON = st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | ANY_TEXT,
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3),
                    max_leaves=12)
USER_EVENT = st.fixed_dictionaries({
    "event": st.just("user"), "text": st.one_of(ANY_TEXT, HUGE, JSON), "input_channel": st.one_of(ANY_TEXT, JSON),
    "parse_data": st.one_of(JSON, st.fixed_dictionaries({
        "intent": st.one_of(JSON, st.fixed_dictionaries({"name": st.one_of(ANY_TEXT, JSON),
                                                         "confidence": st.one_of(st.floats(), JSON)})),
        "entities": st.one_of(JSON, st.lists(st.fixed_dictionaries({
            "entity": st.one_of(ANY_TEXT, st.sampled_from(["person", "email", "lesion_type"])),
            "value": JSON, "start": st.integers(-5, 50), "end": st.integers(-5, 50)}), max_size=3)),
    }))})
OTHER_EVENT = st.fixed_dictionaries({"event": ANY_TEXT, "name": st.one_of(ANY_TEXT, st.sampled_from(
    sorted(PERSONAL_SLOTS))), "value": JSON, "text": ANY_TEXT, "policy": JSON, "confidence": JSON,
    "data": st.one_of(JSON, st.fixed_dictionaries({"buttons": st.lists(st.fixed_dictionaries(
        {"title": JSON}), max_size=2)}))})
TIMESTAMP = st.one_of(st.none(), st.floats(), st.integers(-10**20, 10**20), st.just(day_ts(0, -30)))
TYPE = st.sampled_from(["user", "bot", "action", "slot", "session_started", "restart", "weird"])


def _dump(data) -> str:
    return data if isinstance(data, str) else json.dumps(data)  # as Rasa stores events


EVENT = st.tuples(TYPE, TIMESTAMP, st.one_of(st.none(), ANY_TEXT), st.one_of(st.none(), ANY_TEXT),
                  st.one_of(USER_EVENT, OTHER_EVENT, JSON.map(_dump), ANY_TEXT))


@settings(FUZZ, max_examples=250)
@given(events=st.lists(EVENT, max_size=8), sender=ANY_TEXT)
def test_summary_never_fails(events, sender):
    from webapp.staff.summary import EventRow, summarize

    rows = [EventRow(i + 1, sender, kind, ts, intent, action, data if isinstance(data, str) else _dump(data))
            for i, (kind, ts, intent, action, data) in enumerate(events)]
    summary, messages = summarize(sender, rows)
    for row in [summary] + messages:
        for key, value in row.items():
            if isinstance(value, str) and key != "sender_id":
                _encodable(value)
            if isinstance(value, float):
                assert value == value and abs(value) != float("inf"), (key, value)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def events_db(request, tmp_path_factory):
    from tests.webapp.conftest import create_request_tables
    from storage.engine import create_engine, migrate

    if request.param == "sqlite":
        url, name = f"sqlite:///{tmp_path_factory.mktemp('fuzz-events') / 'events.db'}", None
    else:
        name = _create_pg_database()
        url = f"{PG_SERVER}/{name}"
    engine = create_engine(url)
    try:
        create_request_tables(url)
        migrate(engine, "staff")
        with engine.begin() as conn:
            t.events.create(conn, checkfirst=True)
        yield engine
    finally:
        engine.dispose()
        if name:
            _drop_pg_database(name)


def test_transcript_and_exports_never_fail(events_db):
    """Rows as Rasa stores them (the real events table, json.dumps'd data), then the
    summary refresh, the transcript and both exports, masked and revealed."""
    from webapp.staff.exports import export_csv, export_json
    from webapp.staff.summary import Refresher
    from webapp.staff.transcript import transcript

    engine = events_db
    refresher = Refresher(engine)

    @settings(FUZZ, max_examples=40)
    @given(events=st.lists(EVENT, min_size=1, max_size=6))
    def run(events):
        sender = f"fuzz-{uuid.uuid4().hex[:8]}"
        rows = []
        for kind, ts, intent, action, data in events:
            rows.append({"sender_id": sender, "type_name": kind,
                         "timestamp": ts if isinstance(ts, float) or ts is None or abs(ts) < 2**53 else None,
                         "intent_name": _column(intent), "action_name": _column(action),
                         "data": _column(data if isinstance(data, str) else _dump(data), limit=None)})
        with engine.begin() as conn:
            conn.execute(t.events.insert(), rows)
        refresher.refresh()
        with engine.begin() as conn:
            conv = conn.execute(sa.select(t.conversations).where(t.conversations.c.sender_id == sender)).first()
            assert conv is not None
            for reveal in (False, True):
                page = transcript(conn, conv, reveal, 0.6, 1)
                _encodable(json.dumps(page, default=str, ensure_ascii=False))
                _encodable(export_csv(conn, [sender], reveal))
                body = export_json(conn, [sender], reveal, 0.6)
                _encodable(body)
                json.loads(body)

    run()


def _column(value, limit=255):
    """What a database column can hold: no lone surrogates anywhere, no NUL on PostgreSQL
    (those arrive only inside JSON, as escapes)."""
    if value is None:
        return None
    value = value.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")
    return value if limit is None else value[:limit]


def test_fuzz_strategies_reach_surrogates_and_nul():
    """The alphabet really contains what the fuzz is about."""
    found = {"surrogate": False, "nul": False}

    @settings(max_examples=300, derandomize=True, database=None)
    @given(ANY_TEXT)
    def probe(text):
        found["surrogate"] |= any("\ud800" <= c <= "\udfff" for c in text)
        found["nul"] |= "\x00" in text

    probe()
    assert all(found.values()), found


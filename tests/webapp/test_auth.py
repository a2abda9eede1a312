"""Logging in, sessions, CSRF, throttling, roles, security headers, the account tool."""

from __future__ import annotations

import re
from datetime import timedelta
from http.cookies import SimpleCookie

import pytest
import sqlalchemy as sa

from tests.webapp.conftest import PASSWORD, Client, make_app, scalar, with_settings
from webapp.staff import tables as t
from storage.time import utcnow as now

PUBLIC = {"login_form", "login_submit", "static"}
ADMIN_ONLY_GET = ["/staff/users", "/staff/audit"]
ADMIN_ONLY_POST = ["/staff/users", "/staff/users/1", "/staff/conversations/1/reveal",
                   "/staff/conversations/1/delete", "/staff/requests/1/reveal"]


def staff_routes(app):
    for route in app.router.routes:
        if not route.path.startswith("staff"):
            continue
        name = route.name.rsplit(".", 1)[-1]
        path = "/" + re.sub(r"<[^>]+:int>", "1", route.path)
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            yield name, method, path


def set_cookie_header(resp, name):
    for header in resp.headers.get_list("set-cookie"):
        cookie = SimpleCookie()
        cookie.load(header)
        if name in cookie:
            return header, cookie[name]
    raise AssertionError(f"no {name} cookie set")


def test_every_route_but_login_and_static_needs_a_login(client):
    routes = list(staff_routes(client.app))
    names = {name for name, _, _ in routes}
    # the console's screens are all there (guards against enumerating nothing)
    assert {"conversation_list", "conversation", "conversation_correct", "corrections_export",
            "requests_page", "request_status", "dashboard_page", "users_page", "audit_page"} <= names
    checked = 0
    for name, method, path in routes:
        if name in PUBLIC:
            continue
        if method == "GET":
            resp = client.get(path)
            assert resp.status == 303, (name, path, resp.status)
            assert resp.headers["location"].startswith("/staff/login?next="), (name, path)
        else:
            # even with a token-shaped field, nothing happens without a session
            resp = client.post(path, {"csrf_token": "x" * 43}, csrf=False)
            assert resp.status == 401, (name, method, path, resp.status)
        checked += 1
    assert checked >= 25
    assert scalar(client.app.ctx.settings.database_url, "SELECT count(*) FROM staff_reviews") == 0
    # the public ones answer without a login
    assert client.get("/staff/login").status == 200
    assert client.get("/staff/static/console.css").status == 200


def test_login_sets_a_hardened_session_cookie_and_logout_ends_it(client, seeded):
    page = client.get("/staff/login")
    assert page.status == 200
    assert 'name="username"' in page.text and 'name="password"' in page.text
    assert 'name="csrf_token"' in page.text
    resp = client.login("rita")
    header, cookie = set_cookie_header(resp, "staff_session")
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/staff"
    assert "secure" not in header.lower().split("; ")
    assert len(cookie.value) >= 43  # 32 random bytes, url-safe base64
    # only a hash of the cookie value is stored
    stored = scalar(seeded, "SELECT token_hash FROM staff_sessions")
    assert stored != cookie.value and len(stored) == 64
    assert client.get("/staff/").status == 200

    assert client.post("/staff/logout", csrf=False).status == 403  # no CSRF token: refused
    assert client.get("/staff/").status == 200
    resp = client.post("/staff/logout")
    assert resp.status == 303 and resp.headers["location"].startswith("/staff/login")
    assert scalar(seeded, "SELECT count(*) FROM staff_sessions") == 0
    # the old cookie value is worthless now
    client.cookies.set("staff_session", cookie.value, domain="127.0.0.1", path="/staff")
    assert client.get("/staff/").status == 303
    actions = [r[0] for r in sa.create_engine(seeded).connect().execute(
        sa.text("SELECT action FROM staff_audit_log WHERE actor = 'rita' ORDER BY id"))]
    assert actions == ["login", "logout"]


def test_secure_cookie_flag_when_configured(settings, seeded):
    with Client(make_app(with_settings(settings, staff_cookie_secure=True))) as c:
        header, cookie = set_cookie_header(c.get("/staff/login"), "staff_login_csrf")
        assert cookie["secure"]


def test_login_form_needs_its_csrf_token(client, seeded):
    client.get("/staff/login")
    resp = client.post("/staff/login", {"username": "rita", "password": PASSWORD}, csrf=False)
    assert resp.status == 403
    resp = client.post("/staff/login", {"username": "rita", "password": PASSWORD, "csrf_token": "f" * 43},
                       csrf=False)
    assert resp.status == 403
    assert scalar(seeded, "SELECT count(*) FROM staff_sessions") == 0


def test_wrong_passwords_are_refused_and_then_throttled(client, seeded):
    for _ in range(5):
        resp = client.login("rita", "wrong password!!", expect=401)
        assert "Wrong user name or password" in resp.text
    # the right password no longer helps while the limit holds
    resp = client.login("rita", PASSWORD, expect=429)
    assert int(resp.headers["retry-after"]) == 15 * 60
    assert scalar(seeded, "SELECT count(*) FROM staff_sessions") == 0
    # another account is not locked by rita's failures
    client.login("ada")
    actions = [r[0] for r in sa.create_engine(seeded).connect().execute(
        sa.text("SELECT action FROM staff_audit_log ORDER BY id"))]
    assert actions.count("login_failed") == 5 and "login_throttled" in actions


def test_failures_age_out_of_the_window(client, seeded):
    for _ in range(5):
        client.login("rita", "wrong password!!", expect=401)
    engine = sa.create_engine(seeded)
    with engine.begin() as conn:
        conn.execute(t.login_failures.update().values(at=now() - timedelta(minutes=16)))
    client.login("rita")


def test_unknown_users_count_against_the_client_address(settings, seeded):
    app = make_app(with_settings(settings, staff_login_max_failures_ip=3))
    with Client(app) as c:
        for i in range(3):
            c.login(f"nobody{i}", "whatever password", expect=401)
        c.login("ada", expect=429)


def test_sessions_expire_absolutely_and_when_idle(client, seeded):
    client.login("rita")
    engine = sa.create_engine(seeded)
    with engine.begin() as conn:
        conn.execute(t.sessions.update().values(expires_at=now() - timedelta(seconds=1)))
    resp = client.get("/staff/dashboard")
    assert resp.status == 303 and "msg=expired" in resp.headers["location"]
    assert "next=%2Fstaff%2Fdashboard" in resp.headers["location"]
    assert scalar(seeded, "SELECT count(*) FROM staff_sessions") == 0

    client.login("rita")
    with engine.begin() as conn:
        conn.execute(t.sessions.update().values(last_seen_at=now() - timedelta(minutes=31)))
    assert client.get("/staff/").status == 303


def test_login_redirects_only_inside_the_console(client):
    page = client.get("/staff/login?next=https://evil.example/")
    assert 'name="next" value="/staff/"' in page.text
    page = client.get("/staff/login?next=/staff/requests")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    resp = client.post("/staff/login", {"username": "rita", "password": PASSWORD, "csrf_token": token,
                                        "next": "/staff/requests"}, csrf=False)
    assert resp.headers["location"] == "/staff/requests"


def test_posts_need_the_session_csrf_token(client, seeded):
    client.login("rita")
    conv_id = scalar(seeded, "SELECT id FROM staff_conversations WHERE sender_id = 'conv-old'")
    resp = client.post(f"/staff/conversations/{conv_id}/review", {"reviewed": "1"}, csrf=False)
    assert resp.status == 403
    resp = client.post(f"/staff/conversations/{conv_id}/review", {"reviewed": "1", "csrf_token": "a" * 43},
                       csrf=False)
    assert resp.status == 403
    assert scalar(seeded, "SELECT count(*) FROM staff_reviews") == 0
    assert client.post(f"/staff/conversations/{conv_id}/review", {"reviewed": "1"}).status == 303
    assert scalar(seeded, "SELECT count(*) FROM staff_reviews WHERE reviewed = :yes", yes=True) == 1


def test_every_form_on_every_screen_carries_a_csrf_token(client, seeded):
    client.login("ada")
    conv_id = scalar(seeded, "SELECT id FROM staff_conversations WHERE sender_id = 'conv-booking'")
    pages = ["/staff/", f"/staff/conversations/{conv_id}", "/staff/requests", "/staff/corrections",
             "/staff/dashboard", "/staff/users", "/staff/audit", "/staff/account"]
    seen = 0
    for path in pages:
        html = client.get(path).text
        for form in re.findall(r"<form\b[^>]*>.*?</form>", html, flags=re.S):
            if 'method="post"' in form:
                seen += 1
                assert 'name="csrf_token"' in form, (path, form[:200])
    assert seen > 15


def test_reviewers_cannot_use_admin_screens(client, seeded):
    client.login("rita")
    for path in ADMIN_ONLY_GET:
        assert client.get(path).status == 403, path
    for path in ADMIN_ONLY_POST:
        resp = client.post(path, {"confirm": "yes", "role": "admin", "username": "mallory",
                                  "password": "a long enough password", "active": "1"})
        assert resp.status == 403, path
    assert scalar(seeded, "SELECT count(*) FROM staff_users WHERE username = 'mallory'") == 0
    assert scalar(seeded, "SELECT role FROM staff_users WHERE id = 1") == "admin"
    assert scalar(seeded, "SELECT count(*) FROM events WHERE sender_id = 'conv-fallback'") > 0
    assert "Accounts" not in client.get("/staff/").text


def test_admin_manages_accounts(client, seeded):
    client.login("ada")
    resp = client.post("/staff/users", {"username": "bob", "role": "reviewer", "password": "short"})
    assert resp.status == 400 and "at least 10 characters" in resp.text
    resp = client.post("/staff/users", {"username": "bob", "role": "reviewer", "password": "a long enough password"})
    assert resp.status == 303
    assert client.post("/staff/users", {"username": "bob", "role": "reviewer",
                                        "password": "a long enough password"}).status == 400
    bob = scalar(seeded, "SELECT id FROM staff_users WHERE username = 'bob'")
    assert scalar(seeded, "SELECT password_hash FROM staff_users WHERE id = :i", i=bob).startswith("$argon2id$")
    # the last admin cannot demote herself
    ada = scalar(seeded, "SELECT id FROM staff_users WHERE username = 'ada'")
    resp = client.post(f"/staff/users/{ada}", {"role": "reviewer", "active": "1"})
    assert resp.status == 400 and "last active admin" in resp.text
    # deactivating bob ends his sessions and stops his logins
    client.post(f"/staff/users/{bob}", {"role": "reviewer", "active": "0"})
    assert scalar(seeded, "SELECT active FROM staff_users WHERE id = :i", i=bob) in (False, 0)
    client.logout_locally()
    client.login("bob", "a long enough password", expect=401)
    audit = [r[0] for r in sa.create_engine(seeded).connect().execute(
        sa.text("SELECT action FROM staff_audit_log WHERE target = 'user:bob' ORDER BY id"))]
    assert audit == ["account_create", "account_update"]


def test_changing_ones_own_password(client, seeded):
    client.login("rita")
    resp = client.post("/staff/account/password", {"current": "nope nope nope", "new": "another long password"})
    assert resp.status == 400
    assert client.post("/staff/account/password", {"current": PASSWORD, "new": "another long password"}).status == 303
    client.logout_locally()
    client.login("rita", PASSWORD, expect=401)
    client.login("rita", "another long password")


def test_production_password_hashing_is_argon2id_at_full_cost(fast_password_hashing):
    from argon2 import Type

    production = fast_password_hashing
    assert production.type is Type.ID
    assert production.memory_cost >= 64 * 1024 and production.time_cost >= 2
    assert production.hash("x").startswith("$argon2id$v=19$m=65536")


def test_security_headers(client):
    resp = client.get("/staff/login")
    csp = resp.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    # scripts only from the console's own files (live.js), never inline or evaluated
    assert "script-src 'self';" in csp and "unsafe" not in csp
    assert resp.headers["x-frame-options"] == "DENY"
    assert resp.headers["cache-control"] == "no-store"
    assert resp.headers["x-content-type-options"] == "nosniff"
    client.login("rita")
    assert client.get("/staff/").headers["cache-control"] == "no-store"
    # no inline scripts or styles anywhere, so the CSP needs no exceptions
    html = client.get("/staff/").text
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts == ['<script src="/staff/static/live.js" defer>'] and "style=" not in html


def test_malformed_posts_get_a_clear_answer(client, seeded):
    client.login("rita")
    _, resp = client.raw.post("/staff/logout", content=b"\xff\xfe\x00garbage=%%%",
                              headers={"content-type": "application/x-www-form-urlencoded"},
                              allow_redirects=False)
    assert resp.status in (400, 403)
    _, resp = client.raw.post("/staff/logout", content=b"x" * (300 * 1024),
                              headers={"content-type": "application/x-www-form-urlencoded"},
                              allow_redirects=False)
    assert resp.status == 413
    _, resp = client.raw.post("/staff/logout", json={"csrf_token": client.csrf}, allow_redirects=False)
    assert resp.status == 403
    assert client.get("/staff/").status == 200


@pytest.mark.parametrize("role", ["admin", "reviewer"])
def test_staff_user_tool(db_url, role, monkeypatch, capsys):
    from tools import staff_user

    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("STAFF_PASSWORD", "a long enough password")
    assert staff_user.main(["--name", "carol", "--role", role]) == 0
    assert "carol" in capsys.readouterr().out
    assert scalar(db_url, "SELECT role FROM staff_users WHERE username = 'carol'") == role
    stored = scalar(db_url, "SELECT password_hash FROM staff_users WHERE username = 'carol'")
    assert stored.startswith("$argon2id$") and "a long enough password" not in stored
    assert staff_user.main(["--name", "carol", "--role", role]) == 1  # exists already
    monkeypatch.setenv("STAFF_PASSWORD", "a new long password")
    assert staff_user.main(["--name", "carol", "--role", "admin", "--reset"]) == 0
    assert scalar(db_url, "SELECT role FROM staff_users WHERE username = 'carol'") == "admin"
    monkeypatch.setenv("STAFF_PASSWORD", "short")
    assert staff_user.main(["--name", "dave", "--role", role]) == 2


def test_staff_user_tool_prompts_twice(db_url, monkeypatch):
    from tools import staff_user

    monkeypatch.delenv("STAFF_PASSWORD", raising=False)
    answers = iter(["first long password", "second long password"])
    with pytest.raises(SystemExit):
        staff_user.read_password(env={}, prompt=lambda _: next(answers), interactive=True)
    answers = iter(["same long password", "same long password"])
    assert staff_user.read_password(env={}, prompt=lambda _: next(answers),
                                    interactive=True) == "same long password"
    with pytest.raises(SystemExit):  # no terminal and no STAFF_PASSWORD
        staff_user.read_password(env={}, interactive=False)

"""Staff notifications against loopback fakes: a Slack-style incoming webhook (a real
HTTP server) and a real SMTP server (aiosmtpd)."""

import asyncio
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import List

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from actions.notify import Notifier
from actions.settings import Settings
from storage.requests import NewRequest, RequestStore
from storage.time import utcnow
from tests.support import free_port

SPECIALISTS = ["Nephrologist", "Cardiologist"]


class FakeWebhook:
    """An incoming-webhook endpoint: records JSON bodies, answers with a set status."""

    def __init__(self):
        self.bodies: List[dict] = []
        self.status = 200
        self.delay = 0.0
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                time.sleep(hook.delay)
                if hook.status == 200:
                    hook.bodies.append({"content_type": self.headers["Content-Type"], **json.loads(raw)})
                self.send_response(hook.status)
                self.end_headers()
                self.wfile.write(b"ok" if hook.status == 200 else b"no_service")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T000/B000/XXXX"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 Message accepted"


@pytest.fixture
def webhook():
    hook = FakeWebhook()
    yield hook
    hook.close()


@pytest.fixture
def smtp():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    mailbox.port = controller.port
    yield mailbox
    controller.stop()


@pytest.fixture
def store(tmp_path):
    store = RequestStore(f"sqlite:///{tmp_path / 'assistant.db'}")
    store.migrate()
    yield store
    store.dispose()


def settings(**env) -> Settings:
    return Settings.from_env({"STAFF_CONSOLE_URL": "https://clinic.example/staff/", **env})


def submit(store, specialist="Nephrologist", key="k1"):
    return store.submit(NewRequest(
        "appointment", "web 42/x", "socketio", key, specialist=specialist, full_name="Jane Smith",
        email="jane@example.org", phone="+447700900123", preferred_time_text="next Tuesday",
        note="my kidney scan",
    ))


def test_slack_and_email_both_get_the_reference_and_no_personal_data(store, webhook, smtp):
    notifier = Notifier(settings(STAFF_SLACK_WEBHOOK_URL=webhook.url, SMTP_HOST="127.0.0.1",
                                 SMTP_PORT=str(smtp.port), SMTP_FROM="bot@clinic.example",
                                 STAFF_EMAIL="desk@clinic.example"), store, SPECIALISTS)
    request = submit(store)
    assert notifier.deliver(request)
    expected = (f"New appointment request {request.reference}\nSpecialist: Nephrologist\n"
                "Channel: socketio\nConversation: https://clinic.example/staff/conversations/web%2042%2Fx")
    assert webhook.bodies == [{"content_type": "application/json", "text": expected}]
    [mail] = smtp.messages
    assert mail.mail_from == "bot@clinic.example" and mail.rcpt_tos == ["desk@clinic.example"]
    content = mail.content.decode()
    assert f"Subject: New appointment request {request.reference}" in content
    assert expected in content.replace("\r\n", "\n")
    for private in ("Jane", "jane@example.org", "7700900123", "kidney scan", "Tuesday"):
        assert private not in json.dumps(webhook.bodies) and private not in content
    stored = store.get(request.id)
    assert stored.notified_at is not None and stored.notify_attempts == 1
    assert stored.last_notify_error is None


def test_a_concern_in_the_patients_words_is_not_sent(store, webhook):
    notifier = Notifier(settings(STAFF_SLACK_WEBHOOK_URL=webhook.url), store, SPECIALISTS)
    assert notifier.deliver(submit(store, specialist="lump in my left breast"))
    assert "breast" not in webhook.bodies[0]["text"]
    assert "Specialist: described by the patient (see the console)" in webhook.bodies[0]["text"]


def test_a_failed_webhook_is_recorded_and_retried_later_without_resending_email(store, webhook, smtp, caplog):
    notifier = Notifier(settings(STAFF_SLACK_WEBHOOK_URL=webhook.url, SMTP_HOST="127.0.0.1",
                                 SMTP_PORT=str(smtp.port), STAFF_EMAIL="desk@clinic.example",
                                 NOTIFY_RETRY_BASE_SECONDS="60"), store, SPECIALISTS)
    request = submit(store)
    webhook.status = 500
    caplog.set_level("INFO")
    assert not notifier.deliver(request)
    failed = store.get(request.id)
    assert failed.notified_at is None and failed.notify_attempts == 1
    assert failed.last_notify_error == "slack: HTTP 500"
    assert len(smtp.messages) == 1
    assert "Could not notify staff of " + request.reference in caplog.text
    assert "Jane" not in caplog.text and "jane@" not in caplog.text

    webhook.status = 200
    assert notifier.retry_due(utcnow()) == 0  # not yet: back-off
    assert notifier.retry_due(utcnow() + timedelta(seconds=61)) == 1
    done = store.get(request.id)
    assert done.notified_at is not None and done.notify_attempts == 2
    assert len(webhook.bodies) == 1 and len(smtp.messages) == 1  # e-mail was not sent twice


def test_an_unreachable_smtp_server_never_loses_the_request(store):
    notifier = Notifier(settings(SMTP_HOST="127.0.0.1", SMTP_PORT=str(free_port()),
                                 STAFF_EMAIL="desk@clinic.example", NOTIFY_MAX_ATTEMPTS="2",
                                 NOTIFY_RETRY_BASE_SECONDS="1"), store, SPECIALISTS)
    request = submit(store)
    assert not notifier.deliver(request)
    later = utcnow() + timedelta(seconds=5)
    assert notifier.retry_due(later) == 0  # second attempt fails as well
    after = store.get(request.id)
    assert after.notify_attempts == 2 and after.last_notify_error.startswith("email: ConnectionRefusedError")
    # attempts used up: the request stays in the queue for staff, no more retries
    assert notifier.retry_due(later + timedelta(days=1)) == 0
    assert store.get(request.id).notify_attempts == 2
    assert store.by_reference(request.reference) is not None


def test_a_slow_webhook_times_out(store, webhook):
    webhook.delay = 1.0
    notifier = Notifier(settings(STAFF_SLACK_WEBHOOK_URL=webhook.url, NOTIFY_TIMEOUT_SECONDS="0.2"),
                        store, SPECIALISTS)
    request = submit(store)
    assert not notifier.deliver(request)
    assert "timed out" in store.get(request.id).last_notify_error


def test_smtp_login_when_credentials_are_set(store):
    mailbox = Mailbox()

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"bot" and auth_data.password == b"s3cret"
        return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 535

    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port(),
                            authenticator=authenticate, auth_require_tls=False, auth_required=True)
    controller.start()
    try:
        base = dict(SMTP_HOST="127.0.0.1", SMTP_PORT=str(controller.port), STAFF_EMAIL="desk@clinic.example",
                    SMTP_USERNAME="bot")
        wrong = Notifier(settings(**base, SMTP_PASSWORD="nope"), store, SPECIALISTS)
        request = submit(store)
        assert not wrong.deliver(request)
        assert "SMTPAuthenticationError" in store.get(request.id).last_notify_error
        right = Notifier(settings(**base, SMTP_PASSWORD="s3cret"), store, SPECIALISTS)
        assert right.deliver(store.get(request.id))
        assert len(mailbox.messages) == 1
    finally:
        controller.stop()


def test_nothing_is_sent_or_counted_when_no_channel_is_configured(store):
    notifier = Notifier(settings(), store, SPECIALISTS)
    request = submit(store)
    assert not notifier.enabled
    assert not notifier.deliver(request)
    assert notifier.retry_due(utcnow() + timedelta(days=1)) == 0
    assert store.get(request.id).notify_attempts == 0


def test_notify_soon_runs_in_a_worker_thread(store, webhook):
    notifier = Notifier(settings(STAFF_SLACK_WEBHOOK_URL=webhook.url), store, SPECIALISTS)
    request = submit(store)

    async def main():
        return await notifier.notify_soon(request)

    assert asyncio.run(main()) is True
    assert len(webhook.bodies) == 1


def test_two_workers_do_not_both_notify(store, webhook):
    notifier = Notifier(settings(STAFF_SLACK_WEBHOOK_URL=webhook.url), store, SPECIALISTS)
    request = submit(store)
    assert notifier.deliver(request)
    assert not notifier.deliver(request)  # the same snapshot again: already claimed
    assert len(webhook.bodies) == 1

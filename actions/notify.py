"""Tells the clinic's staff about new requests: Slack incoming webhook and/or e-mail.

Both are optional (STAFF_SLACK_WEBHOOK_URL; SMTP_HOST + STAFF_EMAIL). A request is
always stored before anyone is notified, so a failed notification never loses it:
the failure is logged and recorded on the request (``notify_attempts``,
``last_notify_error``) and the action server's background loop retries it with
exponential back-off, up to NOTIFY_MAX_ATTEMPTS attempts. Within one process a
retry only re-sends to the channels that failed; after a restart it sends to all.

Messages carry no personal data: the reference, the kind, the specialist when it
is one of the guide's specialists, and a link to the conversation in the staff
console.
"""

from __future__ import annotations

import asyncio
import json
import logging
import smtplib
import ssl
import threading
import urllib.error
import urllib.request
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Dict, FrozenSet, Iterable, List, Optional, Set
from urllib.parse import quote

from actions.settings import Settings
from storage.requests import RequestStore, StoredRequest
from storage.tables import KIND_LABELS
from storage.time import utcnow

logger = logging.getLogger(__name__)

DEFAULT_FROM = "assistant@localhost"


class NotifyError(Exception):
    """One channel could not deliver a notification."""


def conversation_link(settings: Settings, conversation_id: str) -> str:
    return f"{settings.staff_console_url}/conversations/{quote(conversation_id, safe='')}"


class Notifier:
    def __init__(self, settings: Settings, store: RequestStore,
                 public_specialists: Iterable[str] = ()) -> None:
        self.settings = settings
        self.store = store
        # Specialist values safe to name in a notification (the guide's own titles):
        # anything else in that field is the patient's own words about their concern.
        self.public_specialists: FrozenSet[str] = frozenset(public_specialists)
        self._delivered: Dict[int, Set[str]] = {}
        self._lock = threading.Lock()

    # ----------------------------------------------------------------- channels
    @property
    def channels(self) -> List[str]:
        found = []
        if self.settings.staff_slack_webhook_url:
            found.append("slack")
        if self.settings.email_enabled:
            found.append("email")
        return found

    @property
    def enabled(self) -> bool:
        return bool(self.channels)

    def compose(self, request: StoredRequest) -> Dict[str, str]:
        label = KIND_LABELS.get(request.kind, "request")
        lines = [f"New {label} {request.reference}"]
        if request.specialist in self.public_specialists or request.specialist == "Not sure":
            lines.append(f"Specialist: {request.specialist}")
        elif request.specialist:
            lines.append("Specialist: described by the patient (see the console)")
        lines.append(f"Channel: {request.channel}")
        lines.append(f"Conversation: {conversation_link(self.settings, request.conversation_id)}")
        return {"subject": f"New {label} {request.reference}", "text": "\n".join(lines)}

    def send_slack(self, text: str) -> None:
        body = json.dumps({"text": text}).encode("utf-8")
        http_request = urllib.request.Request(
            self.settings.staff_slack_webhook_url, data=body, method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(http_request, timeout=self.settings.notify_timeout_seconds) as response:
                response.read(1024)
        except urllib.error.HTTPError as exc:
            raise NotifyError(f"slack: HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise NotifyError(f"slack: {getattr(exc, 'reason', exc)}") from None

    def send_email(self, subject: str, text: str) -> None:
        s = self.settings
        message = EmailMessage()
        message["From"] = s.smtp_from or DEFAULT_FROM
        message["To"] = s.staff_email
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain="calcified-lesions-assistant")
        message.set_content(text)
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.notify_timeout_seconds) as smtp:
                if s.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if s.smtp_username:
                    smtp.login(s.smtp_username, s.smtp_password)
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError, ValueError) as exc:
            raise NotifyError(f"email: {type(exc).__name__}: {exc}"[:300]) from None

    # ----------------------------------------------------------------- delivery
    def deliver(self, request: StoredRequest, now: Optional[datetime] = None) -> bool:
        """One notification attempt for a stored request; True when every channel got it."""
        channels = self.channels
        if not channels:
            return False
        if not self.store.claim_notification(request.id, request.notify_attempts, now):
            return False  # another worker is on it, or it is already done
        message = self.compose(request)
        with self._lock:
            done = set(self._delivered.get(request.id, ()))
        errors = []
        for channel in channels:
            if channel in done:
                continue
            try:
                if channel == "slack":
                    self.send_slack(message["text"])
                else:
                    self.send_email(message["subject"], message["text"])
                done.add(channel)
            except NotifyError as exc:
                errors.append(str(exc))
        if errors:
            with self._lock:
                if request.notify_attempts + 1 >= self.settings.notify_max_attempts:
                    self._delivered.pop(request.id, None)  # no more retries
                else:
                    self._delivered[request.id] = done
            error = "; ".join(errors)
            self.store.record_notify_failure(request.id, error, now)
            logger.warning("Could not notify staff of %s (attempt %d): %s",
                           request.reference, request.notify_attempts + 1, error)
            return False
        with self._lock:
            self._delivered.pop(request.id, None)
        self.store.mark_notified(request.id, now)
        logger.info("Notified staff of %s via %s", request.reference, ", ".join(channels))
        return True

    def deliver_safely(self, request: StoredRequest) -> bool:
        """``deliver`` for background use: whatever fails is logged, never raised."""
        try:
            return self.deliver(request)
        except Exception:  # noqa: BLE001 - a background job must not die on a DB hiccup
            logger.exception("Notifying staff of %s failed", request.reference)
            return False

    def notify_soon(self, request: StoredRequest) -> Optional["asyncio.Future[bool]"]:
        """Start notifying in a worker thread; the caller need not wait for it."""
        if not self.enabled:
            return None
        loop = asyncio.get_running_loop()
        return loop.run_in_executor(None, self.deliver_safely, request)

    def retry_due(self, now: Optional[datetime] = None) -> int:
        """Retry every notification that is due; returns how many went out."""
        if not self.enabled:
            return 0
        now = now or utcnow()
        sent = 0
        for request in self.store.due_notifications(
            now, self.settings.notify_max_attempts, self.settings.notify_retry_base_seconds
        ):
            if self.deliver(request, now):
                sent += 1
        return sent


_current: Optional[Notifier] = None


def configure(notifier: Optional[Notifier]) -> Optional[Notifier]:
    global _current
    _current = notifier
    return notifier


def current() -> Notifier:
    """The configured notifier; outside the server, one built from the environment."""
    global _current
    if _current is None:
        from actions import resources, store

        loaded = resources.current()
        specialists = [i.title for i in loaded.guide.section("specialists").items]
        _current = Notifier(loaded.settings, store.current(), specialists)
    return _current

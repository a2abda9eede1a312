"""Settings of the web app, read from the environment in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping, Optional

from clinic import settings as clinic


def _number(env: Mapping[str, str], name: str, default: str, kind=int, minimum=None):
    raw = env.get(name, default)
    try:
        value = kind(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {raw!r}")
    return value


def _flag(env: Mapping[str, str], name: str, default: str = "0") -> bool:
    return env.get(name, default).strip().lower() in {"1", "true", "yes", "on"}


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _widget_colour(raw: str) -> str:
    """WIDGET_COLOR: white text on it, and it as text on the answers' grey (#eef1f4), must reach
    WCAG AA's 4.5:1 (widget.js checks a page's data-color the same way)."""
    import re

    colour = raw.strip()
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", colour):
        raise ValueError(f"WIDGET_COLOR must be a colour like #0b4f8a, got {raw!r}")
    ratio = (_luminance("#eef1f4") + 0.05) / (_luminance(colour) + 0.05)
    if ratio < 4.5:
        raise ValueError(f"WIDGET_COLOR {colour} is too light: text on it would reach {ratio:.2f}:1, "
                         "WCAG AA needs 4.5:1; pick a darker colour")
    return colour.lower()


def _zone(name: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"CLINIC_TIMEZONE must be an IANA time zone such as Europe/London, got {name!r}") from None
    return name


@dataclass(frozen=True)
class WebSettings:
    database_url: str
    rasa_url: str  # where browsers reach Rasa's socket.io channel
    port: int
    host: str = "127.0.0.1"  # WEB_HOST; 0.0.0.0 behind a reverse proxy in a container
    # Staff console
    staff_session_minutes: int = 480  # a session ends this long after login at the latest
    staff_idle_minutes: int = 30  # ... or after this long without a request
    staff_cookie_secure: bool = False  # set STAFF_COOKIE_SECURE=1 behind HTTPS
    staff_login_max_failures: int = 5  # failed logins per user name within the window
    staff_login_max_failures_ip: int = 20  # failed logins per client address within the window
    staff_login_window_minutes: int = 15
    staff_page_size: int = 50
    staff_export_max: int = 5000  # conversations in one CSV/JSON export
    low_confidence: float = 0.6  # a message below this intent confidence is flagged
    domain_path: str = "domain.yml"  # intents and entities offered when correcting a message
    clinic_timezone: str = "UTC"  # CLINIC_TIMEZONE: the console's times (the dashboard's days stay UTC)
    staff_response_time: str = "within one working day"  # STAFF_RESPONSE_TIME: older requests are overdue
    staff_notifiers: tuple = ()  # how the action server tells staff of a request ('Slack', 'e-mail')
    # Live take-over: the console reaches Rasa's staff relay (channels/staff_relay.py)
    relay_url: str = "http://127.0.0.1:5005"  # RASA_INTERNAL_URL
    relay_token: str = ""  # STAFF_RELAY_TOKEN; empty: live take-over is off
    live_poll_seconds: float = 1.5  # how often an open conversation page asks for new messages
    # Website widget and the patient page
    clinic_name: str = "The clinic"  # CLINIC_NAME: the patient page's heading
    clinic_phone: str = ""  # CLINIC_PHONE: shown on the patient page when set
    widget_title: str = "Clinic assistant"  # WIDGET_TITLE: the chat's header ("Chat with the ..." on its button)
    widget_greeting: str = ""  # WIDGET_GREETING: the first-visit greeting; the emergency sentence always follows
    widget_color: str = "#0b4f8a"  # WIDGET_COLOR: header, buttons and the patient's bubbles (checked for contrast)
    emergency_number: str = clinic.DEFAULT_EMERGENCY_NUMBER  # EMERGENCY_NUMBER: the widget's greeting and alert
    # the first-visit greeting's suggested questions (WIDGET_SUGGESTIONS, "|"-separated, at most 4 shown)
    widget_suggestions: tuple = ("What are calcified lesions?", "What types are there?",
                                 "How do I prepare for my appointment?", "Who treats them?")
    widget_history_limit: int = 200  # newest messages a reloaded widget gets back
    widget_history_per_minute: int = 60  # history requests per client address and minute
    node_modules: str = "node_modules"  # npm packages (socket.io-client); relative to the repository

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "WebSettings":
        env = os.environ if env is None else env
        return cls(
            database_url=clinic.database_url(env),
            rasa_url=env.get("RASA_PUBLIC_URL", "http://127.0.0.1:5005"),
            port=int(env.get("WEB_PORT", "8000")),
            host=env.get("WEB_HOST", "").strip() or "127.0.0.1",
            staff_session_minutes=_number(env, "STAFF_SESSION_MINUTES", "480", minimum=1),
            staff_idle_minutes=_number(env, "STAFF_IDLE_MINUTES", "30", minimum=1),
            staff_cookie_secure=_flag(env, "STAFF_COOKIE_SECURE"),
            staff_login_max_failures=_number(env, "STAFF_LOGIN_MAX_FAILURES", "5", minimum=1),
            staff_login_max_failures_ip=_number(env, "STAFF_LOGIN_MAX_FAILURES_IP", "20", minimum=1),
            staff_login_window_minutes=_number(env, "STAFF_LOGIN_WINDOW_MINUTES", "15", minimum=1),
            staff_page_size=_number(env, "STAFF_PAGE_SIZE", "50", minimum=5),
            staff_export_max=_number(env, "STAFF_EXPORT_MAX", "5000", minimum=1),
            low_confidence=_number(env, "LOW_CONFIDENCE", "0.6", kind=float, minimum=0.0),
            domain_path=env.get("DOMAIN_PATH", "domain.yml"),
            clinic_timezone=_zone(clinic.clinic_timezone(env)),
            staff_response_time=clinic.staff_response_time(env),
            staff_notifiers=clinic.staff_notifiers(env),
            relay_url=clinic.rasa_internal_url(env),
            relay_token=clinic.staff_relay_token(env),
            live_poll_seconds=_number(env, "STAFF_LIVE_POLL_SECONDS", "1.5", kind=float, minimum=0.2),
            clinic_name=env.get("CLINIC_NAME", "").strip()[:100] or cls.clinic_name,
            clinic_phone=clinic.clinic_phone(env)[:40],
            widget_title=env.get("WIDGET_TITLE", "").strip()[:80] or cls.widget_title,
            widget_greeting=env.get("WIDGET_GREETING", "").strip()[:500],
            widget_color=_widget_colour(env.get("WIDGET_COLOR", "") or cls.widget_color),
            emergency_number=clinic.emergency_number(env),
            widget_suggestions=tuple(q.strip() for q in env["WIDGET_SUGGESTIONS"].split("|") if q.strip())
            if env.get("WIDGET_SUGGESTIONS", "").strip() else cls.widget_suggestions,
            widget_history_limit=_number(env, "WIDGET_HISTORY_LIMIT", "200", minimum=1),
            widget_history_per_minute=_number(env, "WIDGET_HISTORY_PER_MINUTE", "60", minimum=1),
            node_modules=env.get("NODE_MODULES_DIR", "node_modules"),
        )

"""Settings read by more than one service, each with its default, read in this one place."""

from __future__ import annotations

import os
from typing import Mapping, Optional

DEFAULT_EMERGENCY_NUMBER = "your local emergency number"
# One database for Rasa's conversations, the requests and the staff console.
DEFAULT_DATABASE_URL = "sqlite:///.data/assistant.db"
DEFAULT_ACTIONS_PORT = 5055


def _env(env: Optional[Mapping[str, str]]) -> Mapping[str, str]:
    return os.environ if env is None else env


def database_url(env: Optional[Mapping[str, str]] = None) -> str:
    """``DATABASE_URL``: SQLite in .data/ by default, e.g. ``postgresql://user:pw@host/db``."""
    return _env(env).get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL


def action_endpoint_url(env: Optional[Mapping[str, str]] = None) -> str:
    """Where Rasa calls the action server (``ACTION_ENDPOINT_URL``; by default on loopback)."""
    env = _env(env)
    port = env.get("ACTIONS_PORT", "").strip() or str(DEFAULT_ACTIONS_PORT)
    return env.get("ACTION_ENDPOINT_URL", "").strip() or f"http://127.0.0.1:{port}/webhook"


def emergency_number(env: Optional[Mapping[str, str]] = None) -> str:
    """What the emergency advice tells patients to call (``EMERGENCY_NUMBER``, e.g. ``112``)."""
    return _env(env).get("EMERGENCY_NUMBER", "").strip() or DEFAULT_EMERGENCY_NUMBER


def emergency_call_number(number: str) -> str:
    """An emergency number as something a phone can dial ("112", "+44999"), or "" when it is
    words (the default "your local emergency number"): the widget's tap-to-call link."""
    import re

    digits = re.sub(r"[\s().-]", "", number or "")
    return digits if re.fullmatch(r"\+?\d{2,15}", digits) else ""


def clinic_phone(env: Optional[Mapping[str, str]] = None) -> str:
    """The clinic's phone number for patients (``CLINIC_PHONE``), or "" when not set."""
    return _env(env).get("CLINIC_PHONE", "").strip()


def action_server_token(env: Optional[Mapping[str, str]] = None) -> str:
    """The shared secret between Rasa and the action server (``ACTION_SERVER_TOKEN``), or ""."""
    return _env(env).get("ACTION_SERVER_TOKEN", "").strip()


def staff_relay_token(env: Optional[Mapping[str, str]] = None) -> str:
    """The shared secret between the staff console and Rasa's staff relay (``STAFF_RELAY_TOKEN``):
    with it the console takes conversations over and sends staff replies; without it, live
    take-over is off. The launcher makes one per run when it is not set."""
    return _env(env).get("STAFF_RELAY_TOKEN", "").strip()


def rasa_internal_url(env: Optional[Mapping[str, str]] = None) -> str:
    """Where the staff console reaches Rasa server to server (``RASA_INTERNAL_URL``; by default
    Rasa on loopback, behind nginx when scaled out)."""
    return (_env(env).get("RASA_INTERNAL_URL", "").strip() or "http://127.0.0.1:5005").rstrip("/")


DEFAULT_RESPONSE_TIME = "within one working day"


def staff_response_time(env: Optional[Mapping[str, str]] = None) -> str:
    """When patients are told staff will get back to them (``STAFF_RESPONSE_TIME``); the
    console marks a request older than this as overdue (clinic/hours.py reads it)."""
    return _env(env).get("STAFF_RESPONSE_TIME", "").strip() or DEFAULT_RESPONSE_TIME


def clinic_timezone(env: Optional[Mapping[str, str]] = None) -> str:
    """The clinic's IANA time zone (``CLINIC_TIMEZONE``, default UTC): dates patients give,
    staffed hours and the console's times."""
    return _env(env).get("CLINIC_TIMEZONE", "").strip() or "UTC"


def staff_notifiers(env: Optional[Mapping[str, str]] = None) -> tuple:
    """How the action server tells staff of a new request ('Slack', 'e-mail'), for the console
    to say so; the action server reads the details (actions/settings.py)."""
    env = _env(env)
    found = []
    if env.get("STAFF_SLACK_WEBHOOK_URL", "").strip():
        found.append("Slack")
    if env.get("SMTP_HOST", "").strip() and env.get("STAFF_EMAIL", "").strip():
        found.append("e-mail")
    return tuple(found)


# Scale-out (README "Scaling out"): more than one Rasa replica or action server needs a
# shared database (PostgreSQL) and the Redis lock store; the launcher puts nginx in front.
DEFAULT_REDIS_PORT = 6379
DEFAULT_REDIS_DB = 1


class SettingError(ValueError):
    """A setting that cannot work; the message says which and why."""


def _count(env: Mapping[str, str], name: str) -> int:
    raw = env.get(name, "").strip() or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= 16:
        raise SettingError(f"{name} must be a whole number from 1 to 16, not {raw!r}")
    return int(raw)


def rasa_replicas(env: Optional[Mapping[str, str]] = None) -> int:
    """How many Rasa processes serve the channels (``RASA_REPLICAS``, default 1)."""
    return _count(_env(env), "RASA_REPLICAS")


def action_servers(env: Optional[Mapping[str, str]] = None) -> int:
    """How many action servers answer Rasa (``ACTION_SERVERS``, default 1)."""
    return _count(_env(env), "ACTION_SERVERS")


def redis_host(env: Optional[Mapping[str, str]] = None) -> str:
    """The Redis lock store's host (``REDIS_HOST``), or "" for Rasa's in-memory lock store."""
    return _env(env).get("REDIS_HOST", "").strip()


def redis_port(env: Optional[Mapping[str, str]] = None) -> str:
    return _env(env).get("REDIS_PORT", "").strip() or str(DEFAULT_REDIS_PORT)


def redis_db(env: Optional[Mapping[str, str]] = None) -> str:
    return _env(env).get("REDIS_DB", "").strip() or str(DEFAULT_REDIS_DB)


def scale_problems(env: Optional[Mapping[str, str]] = None) -> list:
    """Why this environment cannot run several replicas ([] when it can, or runs one)."""
    env = _env(env)
    try:
        replicas, servers = rasa_replicas(env), action_servers(env)
    except SettingError as exc:
        return [str(exc)]
    problems = []
    if replicas > 1 and not database_url(env).startswith("postgresql"):
        problems.append("RASA_REPLICAS > 1 needs a shared database: set DATABASE_URL=postgresql://...")
    if replicas > 1 and not redis_host(env):
        problems.append("RASA_REPLICAS > 1 needs the Redis lock store: set REDIS_HOST")
    if servers > 1 and database_url(env).startswith("sqlite"):
        problems.append("ACTION_SERVERS > 1 needs a shared database server: set DATABASE_URL=postgresql://...")
    return problems

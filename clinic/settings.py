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


def clinic_phone(env: Optional[Mapping[str, str]] = None) -> str:
    """The clinic's phone number for patients (``CLINIC_PHONE``), or "" when not set."""
    return _env(env).get("CLINIC_PHONE", "").strip()


def action_server_token(env: Optional[Mapping[str, str]] = None) -> str:
    """The shared secret between Rasa and the action server (``ACTION_SERVER_TOKEN``), or ""."""
    return _env(env).get("ACTION_SERVER_TOKEN", "").strip()

"""Settings read by more than one service, each with its default, read in this one place."""

from __future__ import annotations

import os
from typing import Mapping, Optional

DEFAULT_EMERGENCY_NUMBER = "your local emergency number"


def _env(env: Optional[Mapping[str, str]]) -> Mapping[str, str]:
    return os.environ if env is None else env


def emergency_number(env: Optional[Mapping[str, str]] = None) -> str:
    """What the emergency advice tells patients to call (``EMERGENCY_NUMBER``, e.g. ``112``)."""
    return _env(env).get("EMERGENCY_NUMBER", "").strip() or DEFAULT_EMERGENCY_NUMBER


def clinic_phone(env: Optional[Mapping[str, str]] = None) -> str:
    """The clinic's phone number for patients (``CLINIC_PHONE``), or "" when not set."""
    return _env(env).get("CLINIC_PHONE", "").strip()


def action_server_token(env: Optional[Mapping[str, str]] = None) -> str:
    """The shared secret between Rasa and the action server (``ACTION_SERVER_TOKEN``), or ""."""
    return _env(env).get("ACTION_SERVER_TOKEN", "").strip()

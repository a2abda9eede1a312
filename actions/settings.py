"""All settings of the action server, read from the environment in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

from clinic import settings as clinic
from guide.paths import knowledge_files



class SettingsError(ValueError):
    """An environment variable has a value the action server cannot use."""


def _number(env: Mapping[str, str], name: str, default: str, kind=int, minimum=None):
    raw = env.get(name, "").strip() or default
    try:
        value = kind(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {raw!r}")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _timezone(name: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"CLINIC_TIMEZONE must be an IANA time zone such as Europe/London, got {name!r}"
        ) from None
    return name


def _hours(spec: str, timezone: str) -> str:
    from clinic.hours import HoursError, StaffHours

    try:
        return StaffHours.parse(spec, _timezone(timezone)).spec
    except HoursError as exc:
        raise SettingsError(str(exc)) from None


def _region(code: str) -> str:
    import phonenumbers

    code = code.upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise SettingsError(
            f"CLINIC_PHONE_REGION must be a two-letter region such as GB or US, got {code!r}"
        )
    return code


LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _host(env: Mapping[str, str], token: str) -> str:
    host = env.get("ACTIONS_HOST", "").strip() or "127.0.0.1"
    if host not in LOOPBACK and not token:
        raise SettingsError(
            f"ACTIONS_HOST={host} opens the action server to other machines: "
            "set ACTION_SERVER_TOKEN (and the same in Rasa's environment) first")
    return host


@dataclass(frozen=True)
class Settings:
    guide_file: Path
    lay_terms_file: Path
    red_flags_file: Path
    emergency_number: str
    actions_port: int
    # 127.0.0.1 unless ACTIONS_HOST says otherwise; any other address requires the token
    actions_host: str = "127.0.0.1"
    action_server_token: str = ""  # when set, every call must carry it (401 otherwise)
    # Requests to staff (booking, second opinion, hand-off) and "forget me"
    database_url: str = clinic.DEFAULT_DATABASE_URL
    clinic_timezone: str = "UTC"  # preferred days and times are read in this zone
    clinic_phone_region: str = "GB"  # phone numbers without +country code are read as this region's
    clinic_phone: str = ""  # told to patients with their reference, if set
    staff_response_time: str = clinic.DEFAULT_RESPONSE_TIME
    staff_hours: str = "Mon-Fri 08:00-18:00"  # when the team answers chats (clinic/hours.py), in clinic_timezone
    staff_pickup_minutes: float = 5.0  # in staffed hours: a waiting patient is told after this long
    staff_console_url: str = "http://127.0.0.1:8000/staff"
    # Staff notifications (each optional)
    staff_slack_webhook_url: str = ""
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = ""
    staff_email: str = ""
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    notify_timeout_seconds: float = 10.0
    notify_max_attempts: int = 8  # including the first; retries back off 1, 2, 4 ... minutes
    notify_retry_base_seconds: float = 60.0

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "Settings":
        env = os.environ if env is None else env
        # The same paths the NLU was trained from (guide/paths.py decides them for both).
        knowledge = knowledge_files(env)
        return cls(
            guide_file=knowledge.guide,
            lay_terms_file=knowledge.lay_terms,
            red_flags_file=knowledge.red_flags,
            emergency_number=clinic.emergency_number(env),
            actions_port=_number(env, "ACTIONS_PORT", "5055", minimum=1),
            actions_host=_host(env, clinic.action_server_token(env)),
            action_server_token=clinic.action_server_token(env),
            database_url=clinic.database_url(env),
            clinic_timezone=_timezone(clinic.clinic_timezone(env)),
            clinic_phone_region=_region(env.get("CLINIC_PHONE_REGION", "").strip() or "GB"),
            clinic_phone=clinic.clinic_phone(env),
            staff_response_time=clinic.staff_response_time(env),
            staff_hours=_hours(env.get("STAFF_HOURS", ""), clinic.clinic_timezone(env)),
            staff_pickup_minutes=_number(env, "STAFF_PICKUP_MINUTES", "5", kind=float, minimum=0.1),
            staff_console_url=(env.get("STAFF_CONSOLE_URL", "").strip()
                               or "http://127.0.0.1:8000/staff").rstrip("/"),
            staff_slack_webhook_url=env.get("STAFF_SLACK_WEBHOOK_URL", "").strip(),
            smtp_host=env.get("SMTP_HOST", "").strip(),
            smtp_port=_number(env, "SMTP_PORT", "25", minimum=1),
            smtp_from=env.get("SMTP_FROM", "").strip(),
            staff_email=env.get("STAFF_EMAIL", "").strip(),
            smtp_username=env.get("SMTP_USERNAME", "").strip(),
            smtp_password=env.get("SMTP_PASSWORD", ""),
            smtp_starttls=_flag(env, "SMTP_STARTTLS"),
            notify_timeout_seconds=_number(env, "NOTIFY_TIMEOUT_SECONDS", "10", kind=float, minimum=0.1),
            notify_max_attempts=_number(env, "NOTIFY_MAX_ATTEMPTS", "8", minimum=1),
            notify_retry_base_seconds=_number(env, "NOTIFY_RETRY_BASE_SECONDS", "60", kind=float,
                                              minimum=0.01),
        )

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_host and self.staff_email)

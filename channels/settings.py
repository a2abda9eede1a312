"""Which chat channels Rasa opens, read from the environment in this one place.

REST and the website widget (socket.io) are always on. Telegram and Slack are on
exactly when all their variables are set. The credentials file handed to Rasa names
the variables as ``${VAR}`` (Rasa substitutes them when it reads the file), so no
secret is ever written to disk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Tuple

TELEGRAM_API_URL = "https://api.telegram.org"
SLACK_API_URL = "https://slack.com/api"
# Telegram accepts 1-256 characters of A-Z, a-z, 0-9, _ and - as a webhook secret.
TELEGRAM_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

# REST behind the input guard (channels/rest.py), same path as Rasa's own.
REST_CLASS = "channels.rest.RestInput"
# The website widget's socket.io channel (Rasa's, fixed: see channels/socketio.py).
SOCKETIO_CLASS = "channels.socketio.SocketIOInput"
SOCKETIO = {
    "user_message_evt": "user_uttered",
    "bot_message_evt": "bot_uttered",
    "session_persistence": True,
}


@dataclass(frozen=True)
class ChannelSpec:
    name: str
    class_path: str
    webhook_path: str
    required: Dict[str, str]  # credential key -> environment variable
    optional: Dict[str, str] = field(default_factory=dict)

    def state(self, env: Mapping[str, str]) -> str:
        """'on', 'off' (no variable set) or 'partial' (some set, some missing)."""
        present = [var for var in self.required.values() if env.get(var, "").strip()]
        if len(present) == len(self.required):
            return "on"
        return "partial" if present else "off"

    def missing(self, env: Mapping[str, str]) -> List[str]:
        return [var for var in self.required.values() if not env.get(var, "").strip()]

    def credentials(self, env: Mapping[str, str]) -> Dict[str, str]:
        creds = {key: f"${{{var}}}" for key, var in self.required.items()}
        creds.update({key: f"${{{var}}}" for key, var in self.optional.items() if env.get(var, "").strip()})
        return creds


TELEGRAM = ChannelSpec(
    name="telegram",
    class_path="channels.telegram.TelegramInput",
    webhook_path="/webhooks/telegram/webhook",
    required={
        "access_token": "TELEGRAM_TOKEN",
        "webhook_url": "TELEGRAM_WEBHOOK_URL",
        "secret_token": "TELEGRAM_SECRET_TOKEN",
    },
    optional={"api_url": "TELEGRAM_API_URL"},
)
SLACK = ChannelSpec(
    name="slack",
    class_path="channels.slack.SlackInput",
    webhook_path="/webhooks/slack/webhook",
    required={"slack_token": "SLACK_BOT_TOKEN", "slack_signing_secret": "SLACK_SIGNING_SECRET"},
    optional={"api_url": "SLACK_API_URL"},
)
OPTIONAL_CHANNELS = (TELEGRAM, SLACK)
# The staff console's way into a conversation (channels/staff_relay.py): on when
# STAFF_RELAY_TOKEN is set (the launcher sets one per run).
STAFF_RELAY_CLASS = "channels.staff_relay.StaffRelayInput"


def problems(env: Mapping[str, str]) -> List[str]:
    """Configuration mistakes that should stop the assistant from starting."""
    found = []
    for spec in OPTIONAL_CHANNELS:
        if spec.state(env) == "partial":
            found.append(f"{spec.name.title()} is half configured: set {', '.join(spec.missing(env))} "
                         f"(or unset its other variables to keep it off)")
    secret = env.get("TELEGRAM_SECRET_TOKEN", "").strip()
    if TELEGRAM.state(env) == "on" and not TELEGRAM_SECRET_RE.fullmatch(secret):
        found.append("TELEGRAM_SECRET_TOKEN must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
    return found


def credentials(env: Mapping[str, str]) -> Dict[str, Any]:
    """The content of Rasa's credentials file for this environment."""
    creds: Dict[str, Any] = {REST_CLASS: None, SOCKETIO_CLASS: dict(SOCKETIO)}
    for spec in OPTIONAL_CHANNELS:
        if spec.state(env) == "on":
            creds[spec.class_path] = spec.credentials(env)
    if env.get("STAFF_RELAY_TOKEN", "").strip():
        creds[STAFF_RELAY_CLASS] = {"token": "${STAFF_RELAY_TOKEN}"}
    return creds


def channel_summary(env: Mapping[str, str]) -> List[Tuple[str, bool, str]]:
    """(name, on?, webhook path) of each optional channel, for the launcher's banner."""
    return [(spec.name, spec.state(env) == "on", spec.webhook_path) for spec in OPTIONAL_CHANNELS]


def require(credentials: Mapping[str, Any] | None, keys: List[str], channel: str) -> Dict[str, str]:
    """The given credential values, or a clear error naming what is missing."""
    credentials = credentials or {}
    values = {key: str(credentials.get(key) or "").strip() for key in keys}
    missing = [key for key, value in values.items() if not value]
    if missing:
        raise ValueError(f"The {channel} channel needs {', '.join(missing)} in the credentials file")
    return values

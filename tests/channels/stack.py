"""One running assistant with every channel on, shared by the channel e2e and browser tests.

Telegram and Slack point at fake APIs on loopback. The stack starts on first use and
stops at the end of the pytest session, so the browser test and the four-channel test
load the model once between them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

import requests
from socketio import packet as socketio_packet

from tests.channels.fakes import FakeSlack, FakeTelegram
from tools.launch import Stack
from tests.support import free_port

TELEGRAM_SECRET = "e2e-telegram-secret_0123456789"
SLACK_SECRET = "e2e-slack-signing-secret-abcdef0123"


@dataclass
class ChannelStack:
    stack: Stack
    telegram: FakeTelegram
    slack: FakeSlack
    folder: Path

    @property
    def rasa_url(self) -> str:
        return self.stack.rasa_url

    @property
    def web_url(self) -> str:
        return self.stack.web_url

    def stop(self) -> None:
        self.stack.stop()
        self.telegram.stop()
        self.slack.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


_running: Dict[str, ChannelStack] = {}


def shared_stack(config: Any, model: str) -> ChannelStack:
    """The session's channel stack, started on the first call (``config`` is pytest's)."""
    if "stack" in _running:
        return _running["stack"]
    folder = Path(tempfile.mkdtemp(prefix="channels-stack-"))
    telegram, slack = FakeTelegram().start(), FakeSlack().start()
    rasa_port = free_port()
    env = {
        "DATABASE_URL": f"sqlite:///{folder / 'assistant.db'}",
        "EMERGENCY_NUMBER": "112",
        # Any hour: the hand-off's wording in and outside staffed hours is tested on the action
        # (tests/actions/test_booking_handoff.py); no "nobody is free" reminder mid-test.
        "STAFF_HOURS": "always",
        "STAFF_PICKUP_MINUTES": "60",
        "TELEGRAM_TOKEN": telegram.token,
        "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{rasa_port}/webhooks/telegram/webhook",
        "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
        "TELEGRAM_API_URL": telegram.url,
        "SLACK_BOT_TOKEN": slack.token,
        "SLACK_SIGNING_SECRET": SLACK_SECRET,
        "SLACK_API_URL": slack.url,
    }
    stack = Stack(model, rasa_port=rasa_port, actions_port=free_port(), web_port=free_port(),
                  env=env, log_dir=folder / "logs")
    try:
        stack.start()
    except BaseException:
        telegram.stop()
        slack.stop()
        print((folder / "logs" / "rasa.log").read_text(errors="replace")[-3000:] if (folder / "logs" / "rasa.log").exists() else "")
        shutil.rmtree(folder, ignore_errors=True)
        raise
    running = ChannelStack(stack, telegram, slack, folder)
    _running["stack"] = running
    config.add_cleanup(running.stop)
    config.add_cleanup(lambda: _running.pop("stack", None))
    return running


# ---- talking to the assistant the way each channel's clients do ----------------------------

def widget_session(web_url: str, token: str) -> Dict[str, Any]:
    response = requests.post(f"{web_url}/widget/history", json={"token": token}, timeout=30)
    response.raise_for_status()
    return response.json()


def new_token(label: str) -> str:
    return hashlib.sha256(f"{label}-{time.time_ns()}".encode()).hexdigest()


def rest_turn(rasa_url: str, sender: str, text: str) -> List[Dict[str, Any]]:
    response = requests.post(f"{rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text},
                             timeout=120)
    response.raise_for_status()
    return response.json()


async def close_socket(client: Any) -> None:
    """Disconnect a python-socketio client without waiting out the long-poll request in
    flight (the server answers it only when its ~30 s poll ends)."""
    eio = client.eio
    tasks = [t for t in (eio.read_loop_task, eio.write_loop_task) if t is not None]
    for namespace in list(client.namespaces):
        await client._send_packet(client.packet_class(socketio_packet.DISCONNECT, namespace=namespace))
    await eio.disconnect(abort=True)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    if eio.http is not None and not eio.http.closed:
        await eio.http.close()


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1)[:4000]


def wait_until(predicate, timeout: float = 60.0, interval: float = 0.1) -> Optional[Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None

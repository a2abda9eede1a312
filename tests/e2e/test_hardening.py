"""Issue 8's findings, each tried through the running assistant (actions, Rasa, web app).

Each test here failed on the main of before the hardening; the finding's number is in
its name. Needs a trained model (ASSISTANT_MODEL, see tests/e2e/conftest.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
import socketio

from channels.guard import CUT_NOTICE, MAX_MESSAGE_CHARS
from tests.channels.stack import close_socket
from tests.support import free_port
from tools.launch import Stack

MARKER_NAME = "Zebulon Quartermaine"  # appears in no reply, so any log line holding it logged patient text


def post(url: str, body: bytes, timeout: float = 120) -> Tuple[int, Any]:
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def say(stack: Stack, sender: str, text: str) -> List[Dict[str, Any]]:
    status, replies = post(f"{stack.rasa_url}/webhooks/rest/webhook",
                           json.dumps({"sender": sender, "message": text}).encode())
    assert status == 200, replies
    return replies


def stored_user_texts(stack: Stack, sender: str) -> List[str]:
    path = stack.env["DATABASE_URL"].split("sqlite:///", 1)[1]
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id",
                          (sender,)).fetchall()
    return [json.loads(data)["text"] for (data,) in rows]


def listening_addresses(port: int) -> List[str]:
    """Local addresses with a listening TCP socket on ``port`` (from /proc/net/tcp and tcp6)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, state = fields[1], fields[3]
            host, port_hex = address.rsplit(":", 1)
            if state == "0A" and int(port_hex, 16) == port:
                found.append(host)
    return found


def test_finding_1_a_broken_sender_id_gets_a_400_and_the_assistant_goes_on(stack):
    url = f"{stack.rasa_url}/webhooks/rest/webhook"
    status, answer = post(url, b'{"sender": "rt-\\udc00", "message": "hello"}')
    assert status == 400 and "sender" in answer["error"]
    assert all(proc.poll() is None for proc in stack.procs)
    assert any("calcif" in (r.get("text") or "").lower() for r in say(stack, "rt-after", "what are calcified lesions?"))


def test_finding_2_broken_unicode_is_repaired_before_it_is_stored(stack):
    sender = f"rt-{uuid.uuid4().hex[:8]}"
    status, _ = post(f"{stack.rasa_url}/webhooks/rest/webhook",
                     json.dumps({"sender": sender, "message": "kidney \udc00 stones\u0000?"}).encode())
    assert status == 200
    [text] = stored_user_texts(stack, sender)
    assert text == "kidney \ufffd stones?"
    text.encode("utf-8")


def test_finding_3_a_megabyte_message_is_cut_and_answered_in_seconds(stack):
    sender = f"rt-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    replies = say(stack, sender, "my kidney stones hurt " * 42_000)  # 924,000 characters
    elapsed = time.monotonic() - started
    assert replies[-1]["text"] == CUT_NOTICE
    assert len(stored_user_texts(stack, sender)[0]) <= MAX_MESSAGE_CHARS
    assert elapsed < 60, f"{elapsed:.1f} s (before the cap: more than 18 minutes)"


def test_finding_10_bodies_that_are_not_json_objects_get_a_400(stack):
    url = f"{stack.rasa_url}/webhooks/rest/webhook"
    for body in (b"", b"[]", b"42", b"{not json"):
        status, answer = post(url, body)
        assert status == 400 and answer["error"], body


async def _join(rasa_url: str, request: Dict[str, Any], send: List[str], wait: float) -> Tuple[List, List]:
    client = socketio.AsyncClient(reconnection=False)
    inbox: List[Any] = []
    errors: List[Any] = []
    client.on("bot_uttered", inbox.append)
    client.on("session_confirm", lambda data: inbox.append({"confirmed": data}))
    client.on("session_error", errors.append)
    await client.connect(rasa_url, socketio_path="/socket.io", transports=["polling"])
    try:
        await client.emit("session_request", request)
        await asyncio.sleep(1.0)
        for text in send:
            await client.emit("user_uttered", {"message": text})
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and len(inbox) < 1 + len(send):
            await asyncio.sleep(0.1)
        return inbox, errors
    finally:
        await close_socket(client)


def test_finding_5_a_conversation_id_is_not_enough_to_join_a_widget_conversation(stack):
    token = "victim-" + uuid.uuid4().hex + uuid.uuid4().hex
    history = json.loads(urllib.request.urlopen(urllib.request.Request(
        f"{stack.web_url}/widget/history", json.dumps({"token": token}).encode(),
        {"Content-Type": "application/json"}), timeout=30).read())
    victim_id = history["session_id"]
    inbox, errors = asyncio.run(_join(stack.rasa_url, {"token": token}, ["what types are there?"], 60))
    assert inbox[0] == {"confirmed": victim_id} and errors == []
    # A stranger who read the id in the console or a log:
    inbox, errors = asyncio.run(_join(stack.rasa_url, {"session_id": victim_id}, ["cancel"], 3))
    assert errors and all(m.get("confirmed") != victim_id for m in inbox)
    assert stored_user_texts(stack, victim_id) == ["what types are there?"]


def test_finding_6_the_action_server_listens_on_loopback_and_wants_the_token(stack):
    port = int(stack.actions_url.rsplit(":", 1)[1])
    assert listening_addresses(port) == ["0100007F"]  # 127.0.0.1, nothing else
    body = json.dumps({"next_action": "action_delete_conversation", "sender_id": "someone",
                       "tracker": {"sender_id": "someone", "events": []}}).encode()
    status, _ = post(f"{stack.actions_url}/webhook", body)
    assert status == 401
    assert stack.env["ACTION_SERVER_TOKEN"]  # the launcher drew one for this run
    request = urllib.request.Request(f"{stack.actions_url}/webhook", body, {
        "Content-Type": "application/json", "Authorization": f"Bearer {stack.env['ACTION_SERVER_TOKEN']}x"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 401


def test_finding_11_every_service_binds_loopback_and_rasa_hides_its_version(stack):
    for url in (stack.rasa_url, stack.actions_url, stack.web_url):
        assert set(listening_addresses(int(url.rsplit(":", 1)[1]))) == {"0100007F"}, url
    with urllib.request.urlopen(f"{stack.rasa_url}/", timeout=10) as response:
        banner = response.read().decode()
    assert banner == "ok" and "3.6" not in banner


@pytest.fixture(scope="module")
def fragile_stack(model_path, tmp_path_factory):
    """A stack of its own whose action server the test kills."""
    folder = tmp_path_factory.mktemp("fragile")
    running = Stack(model_path, rasa_port=free_port(), actions_port=free_port(), web_port=free_port(),
                    env={"DATABASE_URL": f"sqlite:///{folder / 'assistant.db'}", "EMERGENCY_NUMBER": "112",
                         "CLINIC_PHONE": "+44 20 7946 0000"},
                    log_dir=folder / "logs").start()
    yield running
    running.stop()


def test_finding_8_without_the_action_server_emergencies_still_get_advice(fragile_stack):
    sender = f"rt-{uuid.uuid4().hex[:8]}"
    assert any("calcif" in (r.get("text") or "").lower()
               for r in say(fragile_stack, sender, f"my name is {MARKER_NAME}, what are calcified lesions?"))
    actions = fragile_stack.services[0]
    assert actions.name == "actions"
    os.killpg(actions.proc.pid, signal.SIGKILL)
    actions.proc.wait(timeout=10)

    [advice] = say(fragile_stack, sender, "I have crushing chest pain")
    assert "medical emergency" in advice["text"] and "112" in advice["text"]
    [apology] = say(fragile_stack, sender, "what types are there?")
    assert "technical problem" in apology["text"] and "+44 20 7946 0000" in apology["text"]


def test_finding_11_logs_carry_no_message_text(fragile_stack):
    """Runs after the failures above: nothing the patient wrote is in any service's log."""
    time.sleep(1)
    for log in Path(fragile_stack.log_dir).glob("*.log"):
        text = log.read_text(errors="replace")
        for words in (MARKER_NAME, "Quartermaine", "crushing chest pain", "what types are there"):
            assert words not in text, f"{log.name} holds {words!r}"

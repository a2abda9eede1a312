"""The action server as Rasa calls it: a real process, real HTTP, the real webhook JSON."""

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.conftest import ROOT
from tests.support import free_port

TOKEN = "test-action-server-token_0123456789"


@pytest.fixture(scope="module")
def action_server():
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "actions.server"], cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "ACTIONS_PORT": str(port), "EMERGENCY_NUMBER": "999",
             "ACTION_SERVER_TOKEN": TOKEN},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            urllib.request.urlopen(f"{url}/health", timeout=1)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("action server did not start")
    yield url
    proc.terminate()
    proc.wait(timeout=20)


def call(url, action, text, intent, entities=(), slots=None):
    message = {"text": text, "intent": {"name": intent, "confidence": 0.9},
               "entities": list(entities), "intent_ranking": []}
    body = {
        "next_action": action, "sender_id": "patient-9", "version": "3.6.21",
        "tracker": {"sender_id": "patient-9", "slots": slots or {}, "latest_message": message,
                    "events": [], "paused": False, "followup_action": None,
                    "active_loop": {}, "latest_action_name": "action_listen"},
        "domain": {},
    }
    request = urllib.request.Request(f"{url}/webhook", json.dumps(body).encode(),
                                     {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def raw_call(url, body: bytes, headers=None):
    request = urllib.request.Request(f"{url}/webhook", body, {"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def test_every_domain_action_is_served(action_server):
    request = urllib.request.Request(f"{action_server}/actions", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        served = {a["name"] for a in json.loads(response.read())}
    import yaml

    declared = set()
    for path in [ROOT / "domain.yml"]:
        declared |= set((yaml.safe_load(path.read_text()) or {}).get("actions") or [])
    custom = {a for a in declared if not a.startswith("utter_")}
    assert custom <= served


def test_answer_through_the_webhook(action_server):
    result = call(action_server, "action_answer_question", "who treats kidney calcium?",
                  "ask_specialist", [{"entity": "location", "value": "kidney"}],
                  {"disclaimer_shown": False})
    assert result["responses"][0]["response"] == "utter_disclaimer"
    assert "Nephrologist: If the calcifications are in the kidneys" in result["responses"][1]["text"]
    assert {"event": "slot", "name": "item", "value": "specialists:nephrologist", "timestamp": None} in result["events"]


def test_emergency_number_comes_from_the_environment(action_server):
    result = call(action_server, "action_give_emergency_advice", "I fainted", "report_emergency",
                  [{"entity": "red_flag", "value": "fainting"}], {"disclaimer_shown": True})
    assert result["responses"][0]["emergency_number"] == "999"
    assert result["responses"][0]["symptom"] == "Fainting"


def test_without_the_token_nothing_runs(action_server):
    """Finding 6: whoever reached port 5055 could run any action, deletion included."""
    body = json.dumps({"next_action": "action_delete_conversation", "sender_id": "x",
                       "tracker": {"sender_id": "x", "events": []}}).encode()
    assert raw_call(action_server, body)[0] == 401
    assert raw_call(action_server, body, {"Authorization": "Bearer wrong"})[0] == 401
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{action_server}/actions", timeout=10)
    assert refused.value.code == 401
    with urllib.request.urlopen(f"{action_server}/health", timeout=10) as response:
        assert response.status == 200  # health checks need no token


def test_malformed_calls_get_a_400_not_a_500(action_server):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for body in (b"", b"[]", b"null", b'{"next_action": 5}', b'{"next_action": "x", "tracker": "t"}'):
        status, answer = raw_call(action_server, body, auth)
        assert status == 400 and answer["error"], body


def test_listening_beyond_loopback_needs_the_token():
    proc = subprocess.run([sys.executable, "-m", "actions.server"], cwd=ROOT, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "ACTIONS_PORT": str(free_port()), "ACTIONS_HOST": "0.0.0.0"},
                          timeout=120)
    assert proc.returncode == 2 and "ACTION_SERVER_TOKEN" in proc.stderr

"""The action server as Rasa calls it: a real process, real HTTP, the real webhook JSON."""

import json
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import ROOT
from tests.support import free_port


@pytest.fixture(scope="module")
def action_server():
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "actions.server"], cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "ACTIONS_PORT": str(port), "EMERGENCY_NUMBER": "999"},
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
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_every_domain_action_is_served(action_server):
    with urllib.request.urlopen(f"{action_server}/actions", timeout=10) as response:
        served = {a["name"] for a in json.loads(response.read())}
    import yaml

    declared = set()
    for path in (ROOT / "domain").glob("*.yml"):
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

"""Hypothesis against the running assistant: REST bodies and action-server calls.

The unit-level fuzz tests (tests/channels, tests/actions) cover the guards' logic at
speed; these send a bounded number of hostile requests through the real processes,
then check that every service still answers and that what was stored is readable.
"""

from __future__ import annotations

import json
import sqlite3
import urllib.error
import urllib.request

from hypothesis import HealthCheck, given, settings, strategies as st

WILD_TEXT = st.text(st.characters(codec=None), max_size=80) | st.builds(
    lambda c, n: c * n, st.sampled_from(["a ", "\udc00", "\x00", "é", "🙂", "chest pain "]), st.integers(1, 5000))
VALUES = st.recursive(st.none() | st.booleans() | st.integers() | WILD_TEXT,
                      lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                                  max_size=3), max_leaves=8)
STACK_FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def post(url: str, body: bytes, headers=None):
    request = urllib.request.Request(url, body, {"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@STACK_FUZZ
@given(st.one_of(
    st.binary(max_size=200),
    st.fixed_dictionaries({"sender": st.one_of(st.text(st.characters(codec=None), min_size=1, max_size=20), VALUES),
                           "message": st.one_of(WILD_TEXT, VALUES)},
                          optional={"metadata": VALUES}).map(lambda v: json.dumps(v).encode())))
def test_fuzz_rest_through_the_running_stack(stack, body):
    status, answer = post(f"{stack.rasa_url}/webhooks/rest/webhook", body)
    assert status in (200, 400), (status, answer[:300])
    assert isinstance(json.loads(answer), (list, dict))


@STACK_FUZZ
@given(st.text(st.characters(codec=None), max_size=40), VALUES, VALUES,
       st.sampled_from(["action_answer_question", "action_give_emergency_advice", "action_reply_canned",
                        "validate_booking_form", "action_submit_booking", "action_request_handoff",
                        "action_delete_conversation", "action_unknown"]))
def test_fuzz_action_server_calls_with_the_token(stack, sender, slots, latest, action):
    tracker = {"sender_id": sender, "slots": slots if isinstance(slots, dict) else {},
               "latest_message": latest if isinstance(latest, dict) else {}, "events": [], "paused": False,
               "followup_action": None, "active_loop": {}, "latest_action_name": "action_listen"}
    body = json.dumps({"next_action": action, "sender_id": sender, "tracker": tracker, "domain": {}}).encode()
    status, answer = post(f"{stack.actions_url}/webhook", body,
                          {"Authorization": f"Bearer {stack.env['ACTION_SERVER_TOKEN']}"})
    assert status in (200, 400, 404), (status, answer[:300])


def test_after_the_fuzzing_every_service_answers_and_the_store_reads_back(stack):
    for url in (f"{stack.rasa_url}/", f"{stack.actions_url}/health", f"{stack.web_url}/health"):
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.status == 200
    path = stack.env["DATABASE_URL"].split("sqlite:///", 1)[1]
    with sqlite3.connect(path) as db:
        for sender, data in db.execute("SELECT sender_id, data FROM events"):
            sender.encode("utf-8")
            json.loads(data)

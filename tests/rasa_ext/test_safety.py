"""Replies without the action server (rasa_ext/safety.py), with Rasa's own classes."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp import web
from rasa.core.actions.action import ActionExecutionRejection
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from rasa_ext.safety import SafeRemoteAction
from tests.conftest import ROOT
from tests.support import free_port


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def tracker_after(domain: Domain, text: str) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("rt-1", [ActionExecuted("action_listen"), UserUttered(text)],
                                            slots=domain.slots)


def run(domain, name, tracker, url=None):
    endpoint = EndpointConfig(url or f"http://127.0.0.1:{free_port()}/webhook")  # nobody listens there
    action = SafeRemoteAction(name, endpoint)
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    return asyncio.run(action.run(CollectingOutputChannel(), nlg, tracker, domain))


def texts(events):
    return [e.text for e in events if isinstance(e, BotUttered)]


def test_emergency_advice_without_the_action_server(domain, monkeypatch):
    monkeypatch.setenv("EMERGENCY_NUMBER", "112")
    events = run(domain, "action_give_emergency_advice", tracker_after(domain, "I have crushing chest pain"))
    [advice] = texts(events)
    assert "medical emergency" in advice and "call 112 now" in advice


def test_an_apology_with_the_clinics_phone(domain, monkeypatch):
    monkeypatch.setenv("CLINIC_PHONE", "+44 20 7946 0000")
    monkeypatch.setenv("EMERGENCY_NUMBER", "999")
    [apology] = texts(run(domain, "action_answer_question", tracker_after(domain, "what types are there?")))
    assert "technical problem" in apology and "+44 20 7946 0000" in apology and "999" in apology


def test_an_apology_without_a_phone_number_says_no_placeholder(domain, monkeypatch):
    monkeypatch.delenv("CLINIC_PHONE", raising=False)
    [apology] = texts(run(domain, "action_answer_question", tracker_after(domain, "hi")))
    assert "{" not in apology and "technical problem" in apology


def test_one_apology_per_turn(domain):
    tracker = tracker_after(domain, "my name is Anna")
    first = run(domain, "validate_booking_form", tracker)
    for event in first:
        tracker.update(event)
    assert len(texts(first)) == 1
    assert run(domain, "action_ask_booking_form_booking_confirmed", tracker) == []
    tracker.update(UserUttered("hello again"))
    assert len(texts(run(domain, "action_answer_question", tracker))) == 1


def test_a_rejection_is_not_a_failure(domain):
    """HTTP 400 from the action server means "this action declines": Rasa handles that, not us."""
    async def scenario():
        async def reject(_request):
            return web.json_response({"action_name": "validate_booking_form", "error": "no"}, status=400)

        app = web.Application()
        app.router.add_post("/webhook", reject)
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            action = SafeRemoteAction("validate_booking_form", EndpointConfig(f"http://127.0.0.1:{port}/webhook"))
            nlg = TemplatedNaturalLanguageGenerator(domain.responses)
            await action.run(CollectingOutputChannel(), nlg, tracker_after(domain, "x"), domain)
        finally:
            await runner.cleanup()

    with pytest.raises(ActionExecutionRejection):
        asyncio.run(scenario())


def test_installed_for_every_remote_action_rasa_builds(domain):
    import rasa_ext
    from rasa.core.actions import action as action_module, forms as forms_module

    rasa_ext.install()
    assert action_module.RemoteAction is SafeRemoteAction and forms_module.RemoteAction is SafeRemoteAction
    built = action_module.action_for_name_or_text("action_answer_question", domain, EndpointConfig("http://x"))
    assert isinstance(built, SafeRemoteAction)
    json.dumps(domain.responses["utter_service_unavailable"])  # the response exists in the domain

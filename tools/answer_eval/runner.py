"""Sends probes and conversations to a running Rasa server through its REST channel
(one fresh sender id per single probe, one sender id per conversation) and checks
each reply."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from guide.model import Guide
from tools.answer_eval.checks import (EMERGENCY, EMERGENCY_WORDS, Expect, Messages, expect_group,
                                      explain_reply, normalize, reply_parts)


@dataclass
class TurnResult:
    text: str
    expect: Expect
    group: str
    passed: bool
    reason: str
    got: str
    latency_ms: Optional[float]
    error: Optional[str] = None
    alarm: bool = False  # the first message is the emergency advice

    @property
    def expects_emergency(self) -> bool:
        return expects_emergency(self.expect)

    @property
    def false_alarm(self) -> bool:
        """Emergency advice first, for a message that does not call for it."""
        return self.alarm and not self.expects_emergency

    @property
    def missed_emergency(self) -> bool:
        return self.expects_emergency and not self.passed


@dataclass
class ConversationResult:
    name: str
    sender: str
    turns: List[TurnResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.turns) and all(t.passed for t in self.turns)


class RestClient:
    """POSTs to Rasa's REST channel; one requests.Session per thread."""

    def __init__(self, url: str, timeout: float) -> None:
        self.webhook = url.rstrip("/") + "/webhooks/rest/webhook"
        self.root = url.rstrip("/") + "/"
        self.timeout = timeout
        self._local = threading.local()

    def _session(self):
        import requests

        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def ping(self) -> Optional[str]:
        """None if the server answers, else the error."""
        try:
            response = self._session().get(self.root, timeout=self.timeout)
            response.raise_for_status()
            return None
        except Exception as exc:  # noqa: BLE001 - report any failure to reach it
            return f"{type(exc).__name__}: {exc}"

    def send(self, sender: str, text: str) -> Tuple[List[Dict[str, Any]], float, Optional[str]]:
        start = time.perf_counter()
        try:
            response = self._session().post(
                self.webhook, json={"sender": sender, "message": text}, timeout=self.timeout)
            latency = (time.perf_counter() - start) * 1000
            response.raise_for_status()
            body = response.json()
            if not isinstance(body, list):
                return [], latency, f"unexpected body: {str(body)[:100]}"
            return body, latency, None
        except Exception as exc:  # noqa: BLE001 - a failed request is a failed probe
            return [], (time.perf_counter() - start) * 1000, f"{type(exc).__name__}: {exc}"


def expects_emergency(expect: Expect) -> bool:
    """Is ``emergency`` the expectation (or one of a list's)?"""
    return expect == EMERGENCY if isinstance(expect, str) else EMERGENCY in (expect or ())


def first_message_alarms(messages: Messages) -> bool:
    """Does the reply's first message contain the emergency advice?"""
    first = messages[0] if messages else None
    return isinstance(first, dict) and EMERGENCY_WORDS in normalize(str(first.get("text") or ""))


def score_turn(entry: Dict[str, Any], messages: Messages, latency: Optional[float],
               error: Optional[str], guide: Guide, responses: Dict[str, List[str]]) -> TurnResult:
    """Check one reply (from the bot or from the baseline) against the entry's expectation."""
    if error:
        passed, reason = False, f"request failed: {error}"
    else:
        passed, reason = explain_reply(entry["expect"], messages, guide, responses)
    return TurnResult(entry["text"], entry["expect"], expect_group(entry["expect"]), passed,
                      reason, _short(messages), None if latency is None else round(latency, 1),
                      error, first_message_alarms(messages))


def new_sender() -> str:
    return f"eval-{uuid.uuid4().hex}"


def _short(messages: Messages, limit: int = 200) -> str:
    return " | ".join(p.replace("\n", " ") for p in reply_parts(messages))[:limit]


def run_turn(client: RestClient, sender: str, entry: Dict[str, Any], guide: Guide,
             responses: Dict[str, List[str]]) -> TurnResult:
    messages, latency, error = client.send(sender, entry["text"])
    return score_turn(entry, messages, latency, error, guide, responses)


def run_conversation(client: RestClient, conv: Dict[str, Any], guide: Guide,
                     responses: Dict[str, List[str]]) -> ConversationResult:
    result = ConversationResult(conv.get("name", ""), new_sender())
    for turn in conv["turns"]:
        result.turns.append(run_turn(client, result.sender, turn, guide, responses))
    return result

"""Answer-level evaluation of the running assistant against patient-style probes.

Sends every probe of ``tests/eval/probes.yml`` to a running Rasa server through the
REST channel (one fresh sender id per single probe, one sender id per conversation),
checks each reply against the clinic's guide and the responses of ``domain.yml``, and
writes a report::

    python -m tools.answer_eval --url http://127.0.0.1:5005 \\
        --probes tests/eval/probes.yml --out reports/eval [--gate]

    python -m tools.answer_eval --check-probes     # validate the probe file only

Expectations (the ``expect`` of a probe or turn; a list means "any of these"):

``<section>:<item>``   e.g. ``treatment:surgical_removal``: the reply contains the
                       item's text exactly as the guide words it.
``<section>``          e.g. ``types``: the reply contains the section heading and
                       every item title (in message text or button titles).
                       ``overview`` (what / why / how found): the overview heading.
``full:<section>``     the whole section, e.g. after "tell me more" on a summary:
                       the reply contains every item's text (overview: its intro).
``emergency``          the FIRST bot message of the turn is the emergency advice
                       (it contains "medical emergency").
``booking``            the reply mentions "appointment" or "second opinion", is not
                       a guide answer and is not one of the fallback replies.
``out_of_scope``, ``diagnosis``, ``greet``, ``goodbye``, ``thank``,
``bot_challenge``, ``capabilities``, ``restart``
                       the reply contains that utter_* response of domain.yml (its
                       text before the first ``{placeholder}``).

The reply is every returned message's ``text`` plus every button ``title``; checks
ignore case, repeated whitespace, curly quotes and markdown asterisks.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import math
import re
import sys
import threading
import time
import unicodedata
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from elsewhere
    sys.path.insert(0, str(ROOT))

from actions.knowledge import Guide, Item, Section, load_guide  # noqa: E402

# Expectation groups answered by a canned response of domain.yml.
CANNED: Dict[str, str] = {
    "greet": "utter_greet",
    "goodbye": "utter_goodbye",
    "thank": "utter_thank",
    "bot_challenge": "utter_bot_challenge",
    "capabilities": "utter_capabilities",
    "out_of_scope": "utter_out_of_scope",
    "diagnosis": "utter_diagnosis",
    "restart": "utter_restart",
}
EMERGENCY = "emergency"
BOOKING = "booking"
SPECIAL = set(CANNED) | {EMERGENCY, BOOKING}
EMERGENCY_WORDS = "medical emergency"
BOOKING_WORDS = ("appointment", "second opinion")
# Replies that may mention appointments but are not an answer to a booking request.
NOT_BOOKING = ("utter_out_of_scope", "utter_diagnosis", "utter_ask_rephrase",
               "utter_default", "utter_capabilities")
# Replies that may accompany a booking answer (stripped before looking for the words).
BOOKING_NOISE = ("utter_greet", "utter_disclaimer", "utter_restart")
FULL_PREFIX = "full:"

Expect = Union[str, Sequence[str]]
Messages = Sequence[Dict[str, Any]]


# --------------------------------------------------------------------------- checks
def normalize(text: str) -> str:
    """Lower-case, NFKC, straight quotes, no markdown asterisks, single spaces."""
    text = unicodedata.normalize("NFKC", text or "")
    text = (text.replace("\u2019", "'").replace("\u2018", "'")
            .replace("\u201c", '"').replace("\u201d", '"').replace("*", ""))
    return re.sub(r"\s+", " ", text).strip().casefold()


def reply_parts(messages: Messages) -> List[str]:
    """Every message text and every button title, in order."""
    parts: List[str] = []
    for message in messages or ():
        if not isinstance(message, dict):
            continue
        if message.get("text"):
            parts.append(str(message["text"]))
        for button in message.get("buttons") or ():
            if isinstance(button, dict) and button.get("title"):
                parts.append(str(button["title"]))
    return parts


def reply_text(messages: Messages) -> str:
    return "\n".join(reply_parts(messages))


def literal_part(template: str) -> str:
    """The part of a response template to look for: its text before the first
    ``{placeholder}`` (or, if that is too short to mean anything, its longest
    literal stretch)."""
    before = template.split("{", 1)[0].strip()
    if len(before) >= 8 or "{" not in template:
        return before
    pieces = [p.strip() for p in re.split(r"\{[^}]*\}", template)]
    return max(pieces, key=len) if pieces else before


def load_responses(domain_path: Union[str, Path]) -> Dict[str, List[str]]:
    """{utter_name: [literal part of each text variant]} from the domain (a file or a folder)."""
    path = Path(domain_path)
    files = sorted(path.glob("*.yml")) if path.is_dir() else [path]
    responses: Dict[str, Any] = {}
    for file in files:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        responses.update(data.get("responses") or {})
    out: Dict[str, List[str]] = {}
    for name, variants in responses.items():
        texts = [literal_part(v["text"]) for v in variants or ()
                 if isinstance(v, dict) and v.get("text")]
        out[name] = [t for t in texts if t]
    return out


def _heading(section: Section) -> str:
    return normalize(section.heading).rstrip("?:. ")


def _contains(haystack: str, needle: str) -> bool:
    needle = normalize(needle)
    return bool(needle) and needle in haystack


def _has_response(haystack: str, responses: Dict[str, List[str]], name: str) -> bool:
    return any(_contains(haystack, v) for v in responses.get(name, ()))


def is_guide_answer(messages: Messages, guide: Guide) -> bool:
    """Does the reply quote the guide (a heading, a section summary or an item text)?"""
    reply = normalize(reply_text(messages))
    for section in guide.sections.values():
        if _heading(section) in reply:
            return True
        if section.summary and _contains(reply, section.summary):
            return True
        if any(_contains(reply, item.text) for item in section.items):
            return True
    return False


def parse_expect(expect: str, guide: Guide, responses: Optional[Dict[str, List[str]]] = None
                 ) -> Tuple[str, Any]:
    """(kind, target) for one expectation string; ValueError if it means nothing.

    kinds: item (Item), section (Section), full (Section), canned (utter name),
    emergency, booking.
    """
    if not isinstance(expect, str) or not expect.strip():
        raise ValueError(f"empty expectation: {expect!r}")
    expect = expect.strip()
    if expect == EMERGENCY:
        return "emergency", None
    if expect == BOOKING:
        return "booking", None
    if expect in CANNED:
        name = CANNED[expect]
        if responses is not None and not responses.get(name):
            raise ValueError(f"expectation {expect!r}: domain.yml has no {name} text")
        return "canned", name
    if expect.startswith(FULL_PREFIX):
        key = expect[len(FULL_PREFIX):]
        if key not in guide.sections:
            raise ValueError(f"unknown section in {expect!r}")
        return "full", guide.sections[key]
    if ":" in expect:
        item = guide.item(expect)
        if item is None:
            raise ValueError(f"unknown guide item {expect!r}")
        return "item", item
    if expect in guide.sections:
        return "section", guide.sections[expect]
    raise ValueError(f"unknown expectation {expect!r}")


def expect_group(expect: Expect) -> str:
    """Report group: the section key for guide expectations, else the expectation."""
    first = expect if isinstance(expect, str) else (list(expect) or [""])[0]
    if first.startswith(FULL_PREFIX):
        first = first[len(FULL_PREFIX):]
    return first.split(":", 1)[0]


def explain_reply(expect: Expect, messages: Messages, guide: Guide,
                  responses: Dict[str, List[str]]) -> Tuple[bool, str]:
    """(passed, reason) for one reply. A list expectation passes if any member does."""
    if not isinstance(expect, str):
        reasons = []
        for alternative in expect:
            ok, why = explain_reply(alternative, messages, guide, responses)
            if ok:
                return True, why
            reasons.append(why)
        return False, " / ".join(reasons) or "no expectation"

    kind, target = parse_expect(expect, guide, responses)
    reply = normalize(reply_text(messages))
    if not messages:
        return False, "no reply"

    if kind == "item":
        item: Item = target
        if _contains(reply, item.text):
            return True, "item text found"
        return False, f"missing text of {item.ref}"

    if kind == "section":
        section: Section = target
        if _heading(section) not in reply:
            return False, f"missing heading {section.heading!r}"
        missing = [i.title for i in section.items if not _contains(reply, i.title)]
        if missing:
            return False, f"missing item titles: {', '.join(missing)}"
        return True, "heading and item titles found"

    if kind == "full":
        section = target
        if not section.items:
            return (True, "intro found") if _contains(reply, section.intro) else (
                False, f"missing intro of {section.key}")
        missing = [i.key for i in section.items if not _contains(reply, i.text)]
        if missing:
            return False, f"missing item texts: {', '.join(missing)}"
        return True, "every item text found"

    if kind == "emergency":
        first = normalize(str((messages[0] or {}).get("text") or ""))
        if EMERGENCY_WORDS in first:
            return True, "emergency advice first"
        if EMERGENCY_WORDS in reply:
            return False, "emergency advice present but not the first message"
        return False, "no emergency advice"

    if kind == "canned":
        if _has_response(reply, responses, target):
            return True, f"{target} found"
        return False, f"missing {target}"

    # booking
    if is_guide_answer(messages, guide):
        return False, "a guide answer, not a booking reply"
    fallback = next((n for n in NOT_BOOKING if _has_response(reply, responses, n)), None)
    if fallback:
        return False, f"{fallback}, not a booking reply"
    rest = reply
    for name in BOOKING_NOISE:
        for variant in responses.get(name, ()):
            rest = rest.replace(normalize(variant), " ")
    if any(word in rest for word in BOOKING_WORDS):
        return True, "booking reply"
    return False, "no mention of an appointment or second opinion"


def check_reply(expect: Expect, messages: Messages, guide: Guide,
                responses: Dict[str, List[str]]) -> bool:
    """True if the reply (Rasa REST messages) meets the expectation."""
    return explain_reply(expect, messages, guide, responses)[0]


# ----------------------------------------------------------------------- probe file
@dataclass
class ProbeSet:
    probes: List[Dict[str, Any]]
    conversations: List[Dict[str, Any]]


def load_probes(path: Union[str, Path]) -> ProbeSet:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return ProbeSet(list(data.get("probes") or []), list(data.get("conversations") or []))


def validate_probes(probes: ProbeSet, guide: Guide,
                    responses: Dict[str, List[str]]) -> List[str]:
    """Problems with the probe file (empty list if it is usable)."""
    problems: List[str] = []

    def check(entry: Any, where: str) -> None:
        if not isinstance(entry, dict) or not isinstance(entry.get("text"), str) \
                or not entry["text"].strip():
            problems.append(f"{where}: needs a non-empty 'text'")
            return
        expect = entry.get("expect")
        alternatives = [expect] if isinstance(expect, str) else expect
        if not isinstance(alternatives, list) or not alternatives:
            problems.append(f"{where}: needs an 'expect'")
            return
        for alternative in alternatives:
            try:
                parse_expect(alternative, guide, responses)
            except ValueError as exc:
                problems.append(f"{where} ({entry['text']!r}): {exc}")

    for n, probe in enumerate(probes.probes, start=1):
        check(probe, f"probe {n}")
    for n, conv in enumerate(probes.conversations, start=1):
        turns = conv.get("turns") if isinstance(conv, dict) else None
        name = conv.get("name", f"#{n}") if isinstance(conv, dict) else f"#{n}"
        if not isinstance(turns, list) or not turns:
            problems.append(f"conversation {name!r}: needs 'turns'")
            continue
        for t, turn in enumerate(turns, start=1):
            check(turn, f"conversation {name!r} turn {t}")
    return problems


def coverage(probes: ProbeSet) -> Dict[str, int]:
    """How many probes and turns expect each expectation string."""
    counts: Dict[str, int] = {}
    entries = list(probes.probes) + [t for c in probes.conversations for t in c.get("turns", [])]
    for entry in entries:
        expect = entry.get("expect")
        for alternative in [expect] if isinstance(expect, str) else expect or ():
            counts[alternative] = counts.get(alternative, 0) + 1
    return counts


# --------------------------------------------------------------------------- running
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


def new_sender() -> str:
    return f"eval-{uuid.uuid4().hex}"


def _short(messages: Messages, limit: int = 200) -> str:
    return " | ".join(p.replace("\n", " ") for p in reply_parts(messages))[:limit]


def run_turn(client: RestClient, sender: str, entry: Dict[str, Any], guide: Guide,
             responses: Dict[str, List[str]]) -> TurnResult:
    messages, latency, error = client.send(sender, entry["text"])
    if error:
        passed, reason = False, f"request failed: {error}"
    else:
        passed, reason = explain_reply(entry["expect"], messages, guide, responses)
    return TurnResult(entry["text"], entry["expect"], expect_group(entry["expect"]), passed,
                      reason, _short(messages), round(latency, 1), error)


def run_conversation(client: RestClient, conv: Dict[str, Any], guide: Guide,
                     responses: Dict[str, List[str]]) -> ConversationResult:
    result = ConversationResult(conv.get("name", ""), new_sender())
    for turn in conv["turns"]:
        result.turns.append(run_turn(client, result.sender, turn, guide, responses))
    return result


# --------------------------------------------------------------------------- report
def percentile(values: Sequence[float], q: float) -> Optional[float]:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return round(ordered[rank - 1], 1)


def _pct(hits: int, total: int) -> float:
    return round(100.0 * hits / total, 1) if total else 0.0


def summarize(probe_results: List[TurnResult], conv_results: List[ConversationResult],
              guide: Guide, min_probes: float, min_conversations: float) -> Dict[str, Any]:
    groups: Dict[str, Dict[str, Any]] = {}
    items: Dict[str, Dict[str, Any]] = {}
    order = list(guide.sections) + sorted(SPECIAL)
    for r in probe_results:
        g = groups.setdefault(r.group, {"hits": 0, "total": 0})
        g["total"] += 1
        g["hits"] += int(r.passed)
        if isinstance(r.expect, str) and r.expect.count(":") == 1 \
                and not r.expect.startswith(FULL_PREFIX):
            i = items.setdefault(r.expect, {"hits": 0, "total": 0})
            i["total"] += 1
            i["hits"] += int(r.passed)
    for bucket in list(groups.values()) + list(items.values()):
        bucket["pct"] = _pct(bucket["hits"], bucket["total"])
    groups = dict(sorted(groups.items(),
                         key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))

    turns = [t for c in conv_results for t in c.turns]
    latencies = [r.latency_ms for r in probe_results + turns if r.latency_ms is not None]
    probes_passed = sum(r.passed for r in probe_results)
    convs_passed = sum(c.passed for c in conv_results)
    probe_pct = _pct(probes_passed, len(probe_results))
    conv_pct = _pct(convs_passed, len(conv_results))
    return {
        "probes": {"passed": probes_passed, "total": len(probe_results), "pct": probe_pct},
        "groups": groups,
        "items": dict(sorted(items.items())),
        "conversations": {
            "passed": convs_passed, "total": len(conv_results), "pct": conv_pct,
            "turns_passed": sum(t.passed for t in turns), "turns_total": len(turns),
            "turn_pct": _pct(sum(t.passed for t in turns), len(turns)),
        },
        "latency_ms": {
            "p50": percentile(latencies, 50), "p95": percentile(latencies, 95),
            "max": round(max(latencies), 1) if latencies else None, "requests": len(latencies),
        },
        "errors": sum(1 for r in probe_results + turns if r.error),
        "gate": {
            "min_probes_pct": min_probes, "min_conversations_pct": min_conversations,
            "passed": probe_pct >= min_probes and conv_pct >= min_conversations,
        },
        "failures": [
            {"text": r.text, "expected": r.expect, "got": r.got, "reason": r.reason}
            for r in probe_results if not r.passed
        ],
        "conversation_failures": [
            {"conversation": c.name, "turn": n, "text": t.text, "expected": t.expect,
             "got": t.got, "reason": t.reason}
            for c in conv_results if not c.passed
            for n, t in enumerate(c.turns, start=1) if not t.passed
        ],
    }


def _md_cell(value: Any) -> str:
    if not isinstance(value, str):
        value = ", ".join(value) if isinstance(value, (list, tuple)) else str(value)
    return value.replace("|", "\\|").replace("\n", " ")


def render_markdown(summary: Dict[str, Any], meta: Dict[str, Any]) -> str:
    p, c, lat = summary["probes"], summary["conversations"], summary["latency_ms"]
    lines = [
        "# Answer evaluation",
        "",
        f"- server: {meta['url']}  ",
        f"- probes file: {meta['probes_file']}  ",
        f"- run at: {meta['started']} ({meta['duration_s']} s)",
        "",
        "| measure | result |",
        "|---|---|",
        f"| single probes | {p['passed']}/{p['total']} ({p['pct']}%) |",
        f"| conversations (every turn right) | {c['passed']}/{c['total']} ({c['pct']}%) |",
        f"| conversation turns | {c['turns_passed']}/{c['turns_total']} ({c['turn_pct']}%) |",
        f"| latency p50 / p95 / max | {lat['p50']} / {lat['p95']} / {lat['max']} ms "
        f"({lat['requests']} requests) |",
        f"| request errors | {summary['errors']} |",
        f"| gate (probes >= {summary['gate']['min_probes_pct']}%, conversations >= "
        f"{summary['gate']['min_conversations_pct']}%) | "
        f"{'pass' if summary['gate']['passed'] else 'FAIL'} |",
        "",
        "## Single probes by expectation group",
        "",
        "| group | hits | total | % |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {g} | {v['hits']} | {v['total']} | {v['pct']} |"
              for g, v in summary["groups"].items()]
    lines += ["", "## Single probes by guide item", "", "| item | hits | total |",
              "|---|---:|---:|"]
    lines += [f"| {ref} | {v['hits']} | {v['total']} |" for ref, v in summary["items"].items()]
    lines += ["", f"## Failed probes ({len(summary['failures'])})", ""]
    if summary["failures"]:
        lines += ["| text | expected | got (first 200 chars) | why |", "|---|---|---|---|"]
        lines += [f"| {_md_cell(f['text'])} | {_md_cell(f['expected'])} | {_md_cell(f['got'])} "
                  f"| {_md_cell(f['reason'])} |" for f in summary["failures"]]
    else:
        lines.append("None.")
    lines += ["", f"## Failed conversation turns ({len(summary['conversation_failures'])})", ""]
    if summary["conversation_failures"]:
        lines += ["| conversation | turn | text | expected | got (first 200 chars) | why |",
                  "|---|---:|---|---|---|---|"]
        lines += [f"| {_md_cell(f['conversation'])} | {f['turn']} | {_md_cell(f['text'])} | "
                  f"{_md_cell(f['expected'])} | {_md_cell(f['got'])} | {_md_cell(f['reason'])} |"
                  for f in summary["conversation_failures"]]
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"


def print_summary(summary: Dict[str, Any], out=None) -> None:
    out = out or sys.stdout
    p, c, lat = summary["probes"], summary["conversations"], summary["latency_ms"]
    w = lambda s="": print(s, file=out)  # noqa: E731
    w(f"{'group':<16}{'hits':>6}{'total':>7}{'%':>8}")
    for g, v in summary["groups"].items():
        w(f"{g:<16}{v['hits']:>6}{v['total']:>7}{v['pct']:>8}")
    w()
    w(f"probes:        {p['passed']}/{p['total']} ({p['pct']}%)")
    w(f"conversations: {c['passed']}/{c['total']} ({c['pct']}%)  "
      f"turns {c['turns_passed']}/{c['turns_total']} ({c['turn_pct']}%)")
    w(f"latency:       p50 {lat['p50']} ms, p95 {lat['p95']} ms, max {lat['max']} ms")
    if summary["errors"]:
        w(f"request errors: {summary['errors']}")
    failures = summary["failures"]
    if failures:
        w()
        w(f"failed probes ({len(failures)}):")
        for f in failures:
            w(f"  - {f['text']!r} expected {f['expected']}: {f['reason']}\n      got: {f['got']}")
    if summary["conversation_failures"]:
        w()
        w("failed conversation turns:")
        for f in summary["conversation_failures"]:
            w(f"  - [{f['conversation']} #{f['turn']}] {f['text']!r} expected {f['expected']}: "
              f"{f['reason']}\n      got: {f['got']}")


# ------------------------------------------------------------------------------ main
def _parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m tools.answer_eval", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="http://127.0.0.1:5005", help="Rasa server URL")
    ap.add_argument("--probes", default="tests/eval/probes.yml")
    ap.add_argument("--out", default="reports/eval", help="folder for report.md/report.json")
    ap.add_argument("--guide", default="knowledge/calcified-lesions.txt")
    ap.add_argument("--terms", default="knowledge/lay_terms.yml")
    ap.add_argument("--domain", default="domain.yml")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    ap.add_argument("--concurrency", type=int, default=1,
                    help="probes/conversations sent in parallel (latency is most honest at 1)")
    ap.add_argument("--only", action="append", default=[], metavar="GROUP",
                    help="run only probes and conversations touching this group (repeatable)")
    ap.add_argument("--gate", action="store_true",
                    help="exit 1 if probes or conversations fall below the thresholds")
    ap.add_argument("--min-probes", type=float, default=95.0)
    ap.add_argument("--min-conversations", type=float, default=90.0)
    ap.add_argument("--check-probes", action="store_true",
                    help="only validate the probe file and print its coverage")
    return ap.parse_args(argv)


def _resolve(path: str) -> Path:
    p = Path(path)
    return p if p.is_absolute() or p.exists() else ROOT / p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parse_args(argv)
    guide = load_guide(_resolve(args.guide), _resolve(args.terms))
    responses = load_responses(_resolve(args.domain))
    probe_set = load_probes(_resolve(args.probes))
    problems = validate_probes(probe_set, guide, responses)
    if problems:
        print("probe file problems:", *problems, sep="\n  ", file=sys.stderr)
        return 2

    if args.check_probes:
        counts = coverage(probe_set)
        groups: Dict[str, int] = {}
        for p in probe_set.probes:
            groups[expect_group(p["expect"])] = groups.get(expect_group(p["expect"]), 0) + 1
        print(f"{len(probe_set.probes)} probes, {len(probe_set.conversations)} conversations "
              f"({sum(len(c['turns']) for c in probe_set.conversations)} turns)")
        for g, n in groups.items():
            print(f"  {g:<16}{n:>4}")
        thin = [i.ref for s in guide.sections.values() for i in s.items
                if sum(1 for p in probe_set.probes if p["expect"] == i.ref) < 3]
        print("items with fewer than 3 single probes:", ", ".join(thin) or "none")
        print("expectations used:", len(counts))
        return 0

    if args.only:
        wanted = set(args.only)
        touches = lambda e: expect_group(e["expect"]) in wanted  # noqa: E731
        probe_set = ProbeSet([p for p in probe_set.probes if touches(p)],
                             [c for c in probe_set.conversations if any(map(touches, c["turns"]))])

    client = RestClient(args.url, args.timeout)
    unreachable = client.ping()
    if unreachable:
        print(f"cannot reach the Rasa server at {args.url}: {unreachable}", file=sys.stderr)
        return 2

    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    workers = max(1, args.concurrency)
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        probe_results = list(pool.map(
            lambda p: run_turn(client, new_sender(), p, guide, responses), probe_set.probes))
        conv_results = list(pool.map(
            lambda c: run_conversation(client, c, guide, responses), probe_set.conversations))
    duration = round(time.perf_counter() - t0, 1)

    summary = summarize(probe_results, conv_results, guide, args.min_probes,
                        args.min_conversations)
    meta = {"url": args.url, "probes_file": str(args.probes),
            "started": started.isoformat(timespec="seconds"), "duration_s": duration}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = dict(meta, **summary, results={
        "probes": [asdict(r) for r in probe_results],
        "conversations": [dict(name=c.name, sender=c.sender, passed=c.passed,
                               turns=[asdict(t) for t in c.turns]) for c in conv_results],
    })
    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n",
                                     encoding="utf-8")
    (out / "report.md").write_text(render_markdown(summary, meta), encoding="utf-8")
    print_summary(summary)
    print(f"\nreport: {out / 'report.md'} and {out / 'report.json'}")
    if args.gate and not summary["gate"]["passed"]:
        print("GATE FAILED", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

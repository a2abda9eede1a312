"""Tests of the answer evaluation (tools/answer_eval/) against the real guide."""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import yaml

from guide.parsing import load_guide
from tools.answer_eval import checks, cli, probes, report, runner

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def guide():
    return load_guide(ROOT / "knowledge/calcified-lesions.txt", ROOT / "knowledge/lay_terms.yml")


@pytest.fixture(scope="module")
def responses():
    return checks.load_responses(ROOT / "domain.yml")


def msg(text=None, buttons=()):
    m = {"recipient_id": "x"}
    if text is not None:
        m["text"] = text
    if buttons:
        m["buttons"] = [{"title": b, "payload": f"/{b}"} for b in buttons]
    return m


def utter(responses, name, **fill):
    """The domain response as the bot would send it (placeholders filled)."""
    data = {}
    for path in [ROOT / "domain.yml"]:
        data.update(yaml.safe_load(path.read_text(encoding="utf-8")).get("responses") or {})
    variant = data[name][0]
    text = variant["text"].format(**fill) if fill else variant["text"]
    return msg(text, [b["title"] for b in variant.get("buttons", ())])


def check(expect, messages, guide, responses):
    return checks.check_reply(expect, messages, guide, responses)


# ------------------------------------------------------------------ helpers
def test_literal_part_strips_placeholders():
    assert checks.literal_part("Booking is coming. Contact us to {request}.") == "Booking is coming. Contact us to"
    # a template that starts with a placeholder: its longest literal stretch
    assert checks.literal_part("{a} can be a medical emergency. Call {b} now.") == \
        "can be a medical emergency. Call"
    assert checks.literal_part("No placeholder.") == "No placeholder."


def test_load_responses_reads_domain(responses):
    assert responses["utter_greet"][0].startswith("Hello!")
    assert responses["utter_booking_intro_either"][0].startswith("I can pass an appointment request")


def test_reply_text_joins_texts_and_button_titles():
    messages = [msg("one"), msg(buttons=["Two", "Three"]), {"image": "x.png"}]
    assert checks.reply_text(messages) == "one\nTwo\nThree"


def test_normalize_ignores_case_space_quotes_and_markdown():
    assert checks.normalize("**You\u2019re**  Fine\n now") == "you're fine now"


# ------------------------------------------------------------------ item expectations
def test_item_passes_with_exact_text(guide, responses):
    item = guide.item("treatment:surgical_removal")
    reply = [msg(f"**{item.title}**: {item.text}")]
    assert check("treatment:surgical_removal", reply, guide, responses)


def test_item_passes_across_reflowed_whitespace_and_extra_messages(guide, responses):
    item = guide.item("recovery:follow_medical_recommendations")
    reply = [msg("Here is what the guide says:"), msg(item.text.replace(". ", ".\n")),
             msg(buttons=["Tell me more"])]
    assert check(item.ref, reply, guide, responses)


def test_item_fails_on_a_different_item(guide, responses):
    other = guide.item("treatment:medications")
    assert not check("treatment:medications_to_manage_calcium_levels",
                     [msg(f"{other.title}: {other.text}")], guide, responses)


def test_item_fails_with_title_only_or_partial_text(guide, responses):
    item = guide.item("preparation:prepare_relevant_documents")
    assert not check(item.ref, [msg(item.title)], guide, responses)
    assert not check(item.ref, [msg(item.text[: len(item.text) // 2])], guide, responses)


def test_same_title_in_two_sections_is_told_apart(guide, responses):
    # "Physical Therapy" (recovery) vs "Physical Therapy and Rehabilitation" (treatment)
    treatment = guide.item("treatment:physical_therapy_and_rehabilitation")
    assert check(treatment.ref, [msg(treatment.text)], guide, responses)
    assert not check("recovery:physical_therapy", [msg(treatment.text)], guide, responses)


def test_item_fails_on_empty_reply(guide, responses):
    assert not check("types:brain_calcifications", [], guide, responses)


# ------------------------------------------------------------------ section expectations
def test_section_passes_with_heading_and_titles_in_text(guide, responses):
    section = guide.sections["types"]
    text = section.heading + "\n" + "\n".join(f"- {i.title}" for i in section.items)
    assert check("types", [msg(text)], guide, responses)


def test_section_passes_with_titles_in_buttons(guide, responses):
    section = guide.sections["specialists"]
    reply = [msg(f"**{section.heading}** {section.summary}",
                 buttons=[i.title for i in section.items])]
    assert check("specialists", reply, guide, responses)


def test_section_heading_trailing_question_mark_is_optional(guide, responses):
    section = guide.sections["recovery"]
    heading = section.heading.rstrip("?")
    assert check("recovery", [msg(heading + ":", [i.title for i in section.items])],
                 guide, responses)


def test_section_fails_when_a_title_is_missing(guide, responses):
    section = guide.sections["preparation"]
    titles = [i.title for i in section.items][:-1]
    assert not check("preparation", [msg(section.heading, titles)], guide, responses)


def test_section_fails_without_heading(guide, responses):
    section = guide.sections["treatment"]
    assert not check("treatment", [msg("Options:", [i.title for i in section.items])],
                     guide, responses)


def test_section_fails_for_a_single_item_answer(guide, responses):
    item = guide.item("specialists:nephrologist")
    assert not check("specialists", [msg(f"{item.title}: {item.text}")], guide, responses)


def test_overview_needs_its_heading(guide, responses):
    overview = guide.sections["overview"]
    assert check("overview", [msg(f"{overview.heading}\n{overview.summary}")], guide, responses)
    assert not check("overview", [msg(overview.summary)], guide, responses)
    types = guide.sections["types"]
    assert not check("overview", [msg(types.heading)], guide, responses)


def test_full_section_needs_every_item_text(guide, responses):
    section = guide.sections["treatment"]
    assert check("full:treatment", [msg(section.full_text())], guide, responses)
    partial = "\n".join(i.text for i in section.items[:-1])
    assert not check("full:treatment", [msg(partial)], guide, responses)
    # the summary with titles is not the full section
    summary = [msg(section.heading, [i.title for i in section.items])]
    assert check("treatment", summary, guide, responses)
    assert not check("full:treatment", summary, guide, responses)


# ------------------------------------------------------------------ emergency
def test_emergency_first_message_passes(guide, responses):
    reply = [utter(responses, "utter_emergency", symptom="Chest pain", emergency_number="911"),
             utter(responses, "utter_disclaimer")]
    assert check("emergency", reply, guide, responses)


def test_emergency_not_first_fails(guide, responses):
    reply = [utter(responses, "utter_disclaimer"),
             utter(responses, "utter_emergency", symptom="Chest pain", emergency_number="911")]
    assert not check("emergency", reply, guide, responses)


def test_emergency_missing_fails(guide, responses):
    item = guide.item("recovery:wound_care")
    assert not check("emergency", [msg(item.text)], guide, responses)
    assert not check("emergency", [], guide, responses)


# ------------------------------------------------------------------ canned responses
@pytest.mark.parametrize("group", sorted(checks.CANNED))
def test_canned_group_passes_with_its_response(group, guide, responses):
    reply = [utter(responses, "utter_disclaimer"), utter(responses, checks.CANNED[group])]
    assert check(group, reply, guide, responses)


# utter_handoff_closed: a run after the team's hours (make eval at 19:10 UTC scored every
# hand-off request as a failure before).
@pytest.mark.parametrize("name", ["utter_handoff_created", "utter_handoff_closed", "utter_handoff_exists"])
def test_handoff_passes_with_any_filing_reply(name, guide, responses):
    assert check("handoff", [utter(responses, name)], guide, responses)
    assert not check("handoff", [utter(responses, "utter_handoff_failed")], guide, responses)


def test_a_finding_needs_the_caution_and_the_guide(guide, responses):
    item = guide.item("types:metastatic_calcifications")
    finding = ["diagnosis", "types:metastatic_calcifications"]
    caution = utter(responses, "utter_diagnosis")
    assert check(finding, [caution, msg(item.text)], guide, responses)
    assert not check(finding, [caution], guide, responses)  # the bare deflection
    assert not check(finding, [msg(item.text)], guide, responses)  # no caution
    # without "diagnosis" a list still means "any of these"
    assert check(["overview", "types:metastatic_calcifications"], [msg(item.text)], guide, responses)


def test_out_of_scope_fails_on_other_replies(guide, responses):
    assert not check("out_of_scope", [utter(responses, "utter_diagnosis")], guide, responses)
    assert not check("out_of_scope", [utter(responses, "utter_ask_rephrase")], guide, responses)
    # a reply that only shares the out-of-scope buttons
    assert not check("out_of_scope", [msg("Sorry.", ["Types", "Treatment"])], guide, responses)


def test_diagnosis_fails_on_guide_answer(guide, responses):
    item = guide.item("types:metastatic_calcifications")
    assert not check("diagnosis", [msg(item.text)], guide, responses)


def test_greet_fails_on_goodbye(guide, responses):
    assert not check("greet", [utter(responses, "utter_goodbye")], guide, responses)


# ------------------------------------------------------------------ booking
def test_booking_passes_with_booking_reply(guide, responses):
    reply = [utter(responses, "utter_booking_intro", kind_label="appointment request")]
    assert check("booking", reply, guide, responses)
    reply = [utter(responses, "utter_booking_intro", kind_label="request for a second opinion")]
    assert check("booking", reply, guide, responses)


def test_booking_passes_with_greeting_and_disclaimer_around(guide, responses):
    reply = [utter(responses, "utter_disclaimer"),
             msg("Which would you like?", ["Book an appointment", "Get a second opinion"])]
    assert check("booking", reply, guide, responses)


def test_booking_fails_on_guide_answer_about_appointments(guide, responses):
    item = guide.item("preparation:schedule_appointments")
    assert "appointment" in item.text.lower()
    assert not check("booking", [msg(item.text)], guide, responses)
    item = guide.item("recovery:follow_up_appointments")
    assert not check("booking", [msg(f"{item.title}: {item.text}")], guide, responses)


def test_booking_fails_on_fallbacks_that_mention_appointments(guide, responses):
    for name in ("utter_ask_rephrase", "utter_diagnosis", "utter_capabilities", "utter_greet"):
        assert not check("booking", [utter(responses, name)], guide, responses), name


def test_booking_fails_without_the_words(guide, responses):
    assert not check("booking", [msg("Sure, the clinic will contact you.")], guide, responses)
    assert not check("booking", [], guide, responses)


# ------------------------------------------------------------------ expectation parsing
def test_list_expectation_passes_if_any_member_does(guide, responses):
    item = guide.item("specialists:rheumatologist")
    reply = [msg(item.text)]
    assert check(["specialists:orthopedic_specialist", "specialists:rheumatologist"],
                 reply, guide, responses)
    assert not check(["specialists:orthopedic_specialist", "specialists:oncologist"],
                     reply, guide, responses)


@pytest.mark.parametrize("bad", ["types:no_such_item", "nosuchsection", "full:nothing", "",
                                 "specialist:radiologist"])
def test_unknown_expectations_raise(bad, guide, responses):
    with pytest.raises(ValueError):
        checks.parse_expect(bad, guide, responses)


def test_expect_group():
    assert checks.expect_group("types:brain_calcifications") == "types"
    assert checks.expect_group("full:recovery") == "recovery"
    assert checks.expect_group("emergency") == "emergency"
    assert checks.expect_group(["specialists:surgeon", "specialists"]) == "specialists"


def test_percentile_nearest_rank():
    values = list(range(1, 101))
    assert report.percentile(values, 50) == 50
    assert report.percentile(values, 95) == 95
    assert report.percentile([7.0], 95) == 7.0
    assert report.percentile([], 50) is None


# ------------------------------------------------------------------ the probe file itself
@pytest.fixture(scope="module")
def probe_set():
    return probes.load_probes(ROOT / "tests/eval/probes.yml")


def test_probe_file_is_valid(probe_set, guide, responses):
    assert probes.validate_probes(probe_set, guide, responses) == []


def test_probe_file_size(probe_set):
    assert len(probe_set.probes) >= 330
    assert len(probe_set.conversations) >= 22
    for conv in probe_set.conversations:
        assert 3 <= len(conv["turns"]) <= 5, conv["name"]
    names = [c["name"] for c in probe_set.conversations]
    assert len(names) == len(set(names))


def test_every_item_probed_three_times(probe_set, guide):
    counts = Counter(p["expect"] for p in probe_set.probes if isinstance(p["expect"], str))
    thin = [i.ref for s in guide.sections.values() for i in s.items if counts[i.ref] < 3]
    assert thin == []
    for group in list(guide.sections) + sorted(checks.SPECIAL):
        assert counts[group] >= 3, group


def test_no_duplicate_single_probes(probe_set):
    texts = Counter(checks.normalize(p["text"]) for p in probe_set.probes)
    assert [t for t, n in texts.items() if n > 1] == []


# ------------------------------------------------------------------ summary and CLI
def _result(expect, passed, latency=10.0):
    return runner.TurnResult("t", expect, checks.expect_group(expect), passed, "", "", latency)


def test_summarize_groups_and_conversations(guide):
    results = [_result("types", True), _result("types:brain_calcifications", False),
               _result("emergency", True, 30.0)]
    good = runner.ConversationResult("a", "s1", [_result("types", True), _result("thank", True)])
    bad = runner.ConversationResult("b", "s2", [_result("types", True), _result("thank", False)])
    s = report.summarize(results, [good, bad], guide, 95, 90)
    assert s["groups"]["types"] == {"hits": 1, "total": 2, "pct": 50.0}
    assert s["groups"]["emergency"]["pct"] == 100.0
    assert s["items"]["types:brain_calcifications"]["hits"] == 0
    assert s["conversations"]["passed"] == 1 and s["conversations"]["turn_pct"] == 75.0
    assert s["probes"]["pct"] == 66.7
    assert s["gate"]["passed"] is False
    assert len(s["failures"]) == 1 and len(s["conversation_failures"]) == 1
    assert s["latency_ms"]["requests"] == 7


class _FakeRasa(BaseHTTPRequestHandler):
    """Greets on "hi", says nothing otherwise; records senders."""

    senders = []

    def do_GET(self):  # noqa: N802
        self._send(b"Hello from Rasa: fake")

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.senders.append(body["sender"])
        reply = [{"recipient_id": body["sender"], "text": self.server.greet}] \
            if body["message"] == "hi" else []
        self._send(json.dumps(reply).encode())

    def _send(self, data):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_cli_against_a_fake_server(tmp_path, responses, capsys):
    server = HTTPServer(("127.0.0.1", 0), _FakeRasa)
    server.greet = responses["utter_greet"][0]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    probe_file = tmp_path / "probes.yml"
    probe_file.write_text(yaml.safe_dump({
        "probes": [{"text": "hi", "expect": "greet"}, {"text": "hi", "expect": "greet"},
                   {"text": "what types", "expect": "types"}],
        "conversations": [{"name": "c", "turns": [{"text": "hi", "expect": "greet"},
                                                  {"text": "bye", "expect": "goodbye"}]}],
    }))
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        code = cli.main(["--url", url, "--probes", str(probe_file), "--out", str(tmp_path / "out"),
                        "--gate", "--no-baseline"])
    finally:
        server.shutdown()
    assert code == 1  # 2/3 probes and 0/1 conversations are below the gate
    written = json.loads((tmp_path / "out/report.json").read_text())
    assert written["gate"]["set"] == "probes" and written["gate"]["passed"] is False
    result = written["sets"]["probes"]["assistant"]
    assert result["probes"] == {"passed": 2, "total": 3, "pct": 66.7}
    assert result["conversations"]["passed"] == 0
    assert result["conversations"]["turns_passed"] == 1
    assert written["latency_ms"]["p50"] is not None
    assert written["baseline"]["available"] is False
    assert len(written["sets"]["probes"]["results"]["probes"]) == 3
    assert (tmp_path / "out/report.md").read_text().startswith("# Answer evaluation")
    # fresh sender per single probe, one sender for the whole conversation
    senders = _FakeRasa.senders
    assert len(set(senders[:3])) == 3 and senders[3] == senders[4]
    out = capsys.readouterr().out
    assert "missed emerg." in out and "[probes] failed probes (1)" in out


def test_cli_reports_unreachable_server(tmp_path):
    code = cli.main(["--url", "http://127.0.0.1:9", "--out", str(tmp_path), "--timeout", "2"])
    assert code == 2

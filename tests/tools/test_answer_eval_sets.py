"""Tests of the answer evaluation's sets (--set, sealed reports), emergency accounting and
the semantic-search baseline. No Rasa server: fabricated results or a tiny fake server."""

from __future__ import annotations

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import yaml

from guide.parsing import load_guide
from tools.answer_eval import baseline, checks, cli, report, run_report, runner, sets

ROOT = Path(__file__).resolve().parents[2]
ALARM = "Chest pain can be a medical emergency. Please call 911 now."
# Distinctive strings that only the sealed set holds: none may leave the run.
SECRETS = ["zebraquokka", "xyzzyconv", "plughreply"]


@pytest.fixture(scope="module")
def guide():
    return load_guide(ROOT / "knowledge/calcified-lesions.txt", ROOT / "knowledge/lay_terms.yml")


@pytest.fixture(scope="module")
def responses():
    return checks.load_responses(ROOT / "domain.yml")


@pytest.fixture(scope="module")
def semantic(guide):
    found, why = baseline.load_baseline(guide)
    if found is None:
        pytest.skip(f"sentence encoder not installed: {why}")
    return found


def turn(text, expect, messages, guide, responses, latency=5.0):
    return runner.score_turn({"text": text, "expect": expect}, messages, latency, None,
                             guide, responses)


# ------------------------------------------------------------------ --set parsing
def test_parse_set():
    assert sets.parse_set("dev=tests/eval/blind/dev.yml") == \
        sets.SetSpec("dev", "tests/eval/blind/dev.yml", False)
    assert sets.parse_set("sealed=tests/eval/blind/sealed.yml:sealed") == \
        sets.SetSpec("sealed", "tests/eval/blind/sealed.yml", True)
    assert sets.parse_set("win=C:/probes.yml").path == "C:/probes.yml"


@pytest.mark.parametrize("bad", ["dev", "=x.yml", "dev=", "dev=:sealed", "a b=x.yml"])
def test_parse_set_rejects(bad):
    with pytest.raises(argparse.ArgumentTypeError):
        sets.parse_set(bad)


def test_set_specs_and_gate_set():
    dev, sealed = sets.SetSpec("dev", "d.yml"), sets.SetSpec("sealed", "s.yml", True)
    assert sets.set_specs([], None) == [sets.SetSpec("probes", "tests/eval/probes.yml")]
    assert sets.set_specs([], "x/old.yml") == [sets.SetSpec("old", "x/old.yml")]
    assert sets.set_specs([dev], None) == [dev]
    assert sets.set_specs([dev, sealed], "o.yml")[-1] == sets.SetSpec("o", "o.yml")
    with pytest.raises(ValueError):
        sets.set_specs([dev, sets.SetSpec("dev", "other.yml")], None)
    assert sets.gate_set([dev, sealed]) == sealed
    assert sets.gate_set([dev]) == dev


def test_cli_parses_repeated_sets():
    args = cli._parse_args(["--set", "a=a.yml:sealed", "--set", "b=b.yml", "--probes", "c.yml"])
    assert [(s.name, s.sealed) for s in args.specs] == [("a", True), ("b", False), ("c", False)]
    with pytest.raises(SystemExit):
        cli._parse_args(["--set", "nonsense"])
    with pytest.raises(SystemExit):
        cli._parse_args(["--set", "a=x.yml", "--set", "a=y.yml"])


# ------------------------------------------------------------------ emergencies
def test_false_alarms_and_missed_emergencies(guide, responses):
    item = guide.item("recovery:wound_care")
    alarm, text = [{"text": ALARM}], [{"text": item.text}]
    probes = [
        turn("chest pain now", "emergency", alarm, guide, responses),  # met
        turn("i collapsed", "emergency", text, guide, responses),  # missed
        turn("no chest pain, how to care for the wound", item.ref, alarm, guide, responses),  # false
        turn("wound care?", item.ref, alarm + text, guide, responses),  # passes, still false alarm
        turn("wound care", item.ref, text + alarm, guide, responses),  # not first: no alarm
    ]
    conv = runner.ConversationResult("c", "s", [
        turn("hi", "greet", alarm, guide, responses),  # false alarm in a conversation
        turn("help", ["emergency", "handoff"], text, guide, responses),  # missed
    ])
    s = report.summarize(probes, [conv], guide, 95, 90)
    assert s["emergency"] == {"expected": 3, "false_alarms": 3, "missed": 2}
    assert [f["text"] for f in s["false_alarm_list"]] == [
        "no chest pain, how to care for the wound", "wound care?", "hi"]
    assert report.totals(s)["emergency"] == {"false_alarms": 3, "missed": 2}


def test_expects_emergency_and_first_message():
    assert runner.expects_emergency("emergency")
    assert runner.expects_emergency(["handoff", "emergency"])
    assert not runner.expects_emergency("types") and not runner.expects_emergency(["types"])
    assert runner.first_message_alarms([{"text": "a **Medical  Emergency**."}])
    assert not runner.first_message_alarms([{"text": "ok"}, {"text": ALARM}])
    assert not runner.first_message_alarms([]) and not runner.first_message_alarms([{}])


# ------------------------------------------------------------------ the sealed report
def _fabricated_run(guide, responses, tmp_path):
    """A sealed and an unsealed set, their results fabricated; returns the report."""
    sealed_file = tmp_path / "sealed.yml"
    sealed_file.write_text(yaml.safe_dump({
        "probes": [{"text": "zebraquokka one", "expect": "specialists:radiologist"},
                   {"text": "zebraquokka two", "expect": "emergency"}],
        "conversations": [{"name": "xyzzyconv", "turns": [
            {"text": "zebraquokka three", "expect": "greet"}]}]}))
    data = yaml.safe_load(sealed_file.read_text())
    reply = [{"text": "plughreply " + ALARM}]
    sealed_probes = [turn(p["text"], p["expect"], reply, guide, responses)
                     for p in data["probes"]]
    conv = data["conversations"][0]
    sealed_convs = [runner.ConversationResult(conv["name"], "s", [
        turn(t["text"], t["expect"], reply, guide, responses) for t in conv["turns"]])]
    open_probes = [turn("hello there", "greet", [{"text": "nothing"}], guide, responses)]
    s_sum = report.summarize(sealed_probes, sealed_convs, guide, 95, 90)
    o_sum = report.summarize(open_probes, [], guide, 95, 90)
    entries = [
        run_report.set_entry(sets.SetSpec("sealed", str(sealed_file), True), s_sum, s_sum,
                             sealed_probes, sealed_convs),
        run_report.set_entry(sets.SetSpec("dev", "dev.yml"), o_sum, None, open_probes, []),
    ]
    return run_report.build_report(entries, {"url": "u", "started": "t", "duration_s": 1},
                                   [5.0, 7.0], "sealed", 95, 90, None)


def test_sealed_set_shows_only_totals(guide, responses, tmp_path, capsys):
    rep = _fabricated_run(guide, responses, tmp_path)
    run_report.write_report(rep, tmp_path / "out")
    run_report.print_console(rep)
    outputs = {"report.md": (tmp_path / "out/report.md").read_text(),
               "report.json": (tmp_path / "out/report.json").read_text(),
               "stdout": capsys.readouterr().out}
    for where, text in outputs.items():
        for secret in SECRETS + ["radiologist", "specialists"]:
            assert secret not in text.lower(), (where, secret)
    sealed = json.loads(outputs["report.json"])["sets"]["sealed"]
    assert set(sealed) == {"name", "file", "sealed", "assistant", "baseline", "ratio"}
    assert set(sealed["assistant"]) == {"probes", "conversations", "emergency", "errors"}
    assert sealed["assistant"]["emergency"] == {"false_alarms": 2, "missed": 0}
    assert sealed["assistant"]["probes"] == {"passed": 1, "total": 2, "pct": 50.0}
    # the unsealed set keeps its detail
    assert "hello there" in outputs["report.md"] and "hello there" in outputs["stdout"]
    assert outputs["report.md"].splitlines()[2].startswith("| set | messages %")
    row = json.loads(outputs["report.json"])["summary"][0]
    assert row["set"] == "sealed" and row["false_alarms"] == 2 and row["ratio"] == 1.0


class _EchoRasa(BaseHTTPRequestHandler):
    """Greets "hi ...", sends the emergency advice for "... ALARM", else echoes (with a
    distinctive prefix for the sealed set's messages)."""

    def do_GET(self):  # noqa: N802
        self._send(b"Hello from Rasa: fake")

    def do_POST(self):  # noqa: N802
        message = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["message"]
        text = self.server.greet if message.startswith("hi") else \
            ALARM if message.endswith("ALARM") else \
            f"plughreply {message}" if "zebraquokka" in message else f"echo {message}"
        self._send(json.dumps([{"recipient_id": "x", "text": text}]).encode())

    def _send(self, data):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_cli_sealed_set_end_to_end(tmp_path, responses, capsys):
    server = HTTPServer(("127.0.0.1", 0), _EchoRasa)
    server.greet = responses["utter_greet"][0]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sealed, dev = tmp_path / "sealed.yml", tmp_path / "dev.yml"
    sealed.write_text(yaml.safe_dump({
        "probes": [{"text": "hi zebraquokka", "expect": "greet"},
                   {"text": "zebraquokka who reads x-rays ALARM", "expect": "specialists:radiologist"},
                   {"text": "zebraquokka collapsed", "expect": "emergency"}],
        "conversations": [{"name": "xyzzyconv", "turns": [
            {"text": "hi zebraquokka", "expect": "greet"},
            {"text": "zebraquokka fainted ALARM", "expect": "emergency"}]}]}))
    dev.write_text(yaml.safe_dump({"probes": [{"text": "opendevtext", "expect": "greet"}]}))
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        code = cli.main(["--url", url, "--set", f"sealed={sealed}:sealed", "--set", f"dev={dev}",
                         "--out", str(tmp_path / "out"), "--gate", "--min-probes", "30",
                         "--min-conversations", "100"])
    finally:
        server.shutdown()
    captured = capsys.readouterr()
    written = json.loads((tmp_path / "out/report.json").read_text())
    md = (tmp_path / "out/report.md").read_text()
    for text in (md, json.dumps(written), captured.out, captured.err):
        for secret in SECRETS:
            assert secret not in text.lower()
    assert code == 0  # the gate judges the sealed set (1/3 probes, 1/1 conversations)
    totals = written["sets"]["sealed"]["assistant"]
    assert totals["emergency"] == {"false_alarms": 1, "missed": 1}
    assert totals["conversations"]["turns_passed"] == 2
    assert "results" not in written["sets"]["sealed"] and "results" in written["sets"]["dev"]
    assert "opendevtext" in md and "opendevtext" in captured.out


def test_sealed_problems_are_counted_not_shown(tmp_path, capsys):
    sealed = tmp_path / "sealed.yml"
    sealed.write_text(yaml.safe_dump({"probes": [{"text": "zebraquokka", "expect": "nosuch"}]}))
    assert cli.main(["--set", f"s={sealed}:sealed", "--check-probes"]) == 2
    err = capsys.readouterr().err
    assert "1 problem(s), not shown" in err and "zebraquokka" not in err and "nosuch" not in err


# ------------------------------------------------------------------ the baseline
@pytest.mark.parametrize("text,ref", [
    ("who reads scans and x-rays", "specialists:radiologist"),
    ("what painkillers can I take after the operation", "recovery:pain_management"),
    ("who treats calcium in the heart arteries?", "specialists:cardiologist"),
    ("should I bring my medical records", "preparation:gather_medical_information"),
])
def test_baseline_answers_with_the_items_text(semantic, guide, responses, text, ref):
    answer = semantic.answer(text)
    assert answer == [{"recipient_id": "baseline", "text": guide.item(ref).text}]
    assert checks.check_reply(ref, answer, guide, responses)
    others = [i.ref for s in guide.sections.values() for i in s.items if i.ref != ref]
    assert not any(checks.check_reply(o, answer, guide, responses) for o in others)


def test_baseline_answers_a_section_question_with_heading_and_titles(semantic, guide, responses):
    answer = semantic.answer("what are the different kinds of calcified lesions")
    assert checks.check_reply("types", answer, guide, responses)
    assert not checks.check_reply("full:types", answer, guide, responses)


def test_baseline_run_scores_sets_like_the_bot(semantic, guide, responses):
    probe_set = baseline.ProbeSet(
        [{"text": "who reads scans and x-rays", "expect": "specialists:radiologist"},
         {"text": "my dad collapsed", "expect": "emergency"}],
        [{"name": "c", "turns": [{"text": "who reads scans and x-rays",
                                  "expect": "specialists:radiologist"},
                                 {"text": "what painkillers can I take after the operation",
                                  "expect": "recovery:pain_management"}]}])
    probes, convs = semantic.run(probe_set, guide, responses)
    assert [p.passed for p in probes] == [True, False]
    assert probes[1].missed_emergency and not probes[1].alarm
    assert convs[0].passed and len(convs[0].turns) == 2
    assert all(p.latency_ms is None for p in probes)


def test_baseline_passages_cover_the_guide(guide):
    refs = [p.ref for p in baseline.guide_passages(guide)]
    assert set(refs) == set(guide.sections) | {i.ref for s in guide.sections.values()
                                               for i in s.items}


def test_baseline_not_available_without_the_encoder(guide, monkeypatch):
    import semantic.encoder as encoder

    def missing(*args, **kwargs):
        raise encoder.EncoderMissing("no model here")

    monkeypatch.setattr(encoder, "load", missing)
    assert baseline.load_baseline(guide) == (None, "no model here")
    entry = run_report.set_entry(sets.SetSpec("x", "x.yml"), report.summarize([], [], guide, 1, 1),
                                 None, [], [])
    rep = run_report.build_report([entry], {"url": "u", "started": "t", "duration_s": 0}, [],
                                  "x", 1, 1, "no model here")
    md = run_report.render_markdown(rep)
    assert "baseline: not available (no model here)" in md
    assert rep["summary"][0]["baseline_messages_pct"] is None and "| n/a |" in md

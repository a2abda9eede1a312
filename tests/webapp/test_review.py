"""Review marks, tags, notes, corrected messages and their export as training data,
conversation exports, deletion, and keeping up with new and forgotten conversations."""

from __future__ import annotations

import csv
import html
import io
import json
import re

import pytest
import sqlalchemy as sa

from tests.webapp.conftest import day_ts, insert_request, save_conversations, scalar, session_start, turn
from webapp.staff import tables as t
from storage.ids import conversation_hash
from storage.time import utcnow as now


def conv_id(url: str, sender: str) -> int:
    return scalar(url, "SELECT id FROM staff_conversations WHERE sender_id = :s", s=sender)


def user_event(url: str, sender: str, text: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        for row in conn.execute(sa.select(t.events.c.id, t.events.c.data).where(
                t.events.c.sender_id == sender, t.events.c.type_name == "user")):
            if json.loads(row.data)["text"] == text:
                return row.id
    raise AssertionError(text)


def audit_actions(url: str):
    with sa.create_engine(url).connect() as conn:
        return [(r.actor, r.action) for r in conn.execute(sa.select(t.audit_log).order_by(t.audit_log.c.id))]


def test_mark_reviewed_tag_and_note(client, seeded):
    client.login("rita")
    cid = conv_id(seeded, "conv-emergency")
    resp = client.post(f"/staff/conversations/{cid}/review", {"reviewed": "1"})
    assert resp.status == 303 and "msg=reviewed" in resp.headers["location"]
    page = client.get(resp.headers["location"]).text
    assert "Marked as reviewed." in page and "Reviewed by rita" in page
    client.post(f"/staff/conversations/{cid}/tags", {"tag": "  Good   Answer "})
    client.post(f"/staff/conversations/{cid}/tags", {"tag": "good answer"})  # same tag again: no duplicate
    client.post(f"/staff/conversations/{cid}/tags", {"tag": "escalate"})
    client.post(f"/staff/conversations/{cid}/note", {"note": "Advice was correct; check wording."})
    page = client.get(f"/staff/conversations/{cid}").text
    assert re.findall(r'<span class="tag">([^<]+)</span>', page) == ["escalate", "good answer"]
    assert "Advice was correct; check wording." in page
    client.post(f"/staff/conversations/{cid}/tags/remove", {"tag": "escalate"})
    client.post(f"/staff/conversations/{cid}/review", {"reviewed": "0"})
    assert scalar(seeded, "SELECT count(*) FROM staff_tags WHERE conversation_id = 'conv-emergency'") == 1
    assert scalar(seeded, "SELECT reviewed FROM staff_reviews WHERE conversation_id = 'conv-emergency'") in (0, False)
    assert client.post(f"/staff/conversations/{cid}/tags", {"tag": ""}).status == 400
    assert client.post(f"/staff/conversations/{cid}/note", {"note": "x" * 5001}).status == 400
    actions = [a for _, a in audit_actions(seeded)]
    assert {"review_mark", "review_unmark", "tag_add", "tag_remove", "review_note"} <= set(actions)
    # the conversation history itself is untouched
    assert scalar(seeded, "SELECT count(*) FROM events WHERE sender_id = 'conv-emergency'") == 7


def test_correct_an_intent_and_export_training_data(client, seeded, tmp_path):
    from rasa.shared.nlu.training_data.loading import load_data

    client.login("rita")
    cid = conv_id(seeded, "conv-fallback")
    event = user_event(seeded, "conv-fallback", "blorp wibble zzz")
    resp = client.post(f"/staff/conversations/{cid}/correct",
                       {"event_id": str(event), "intent": "ask_treatment", "text": "blorp wibble zzz"})
    assert resp.status == 303 and resp.headers["location"].endswith(f"#event-{event}")
    cid2 = conv_id(seeded, "conv-script")
    event2 = user_event(seeded, "conv-script", "<script>alert('xss')</script> how is it treated")
    resp = client.post(f"/staff/conversations/{cid2}/correct", {
        "event_id": str(event2), "intent": "ask_treatment",
        "text": "is [surgery](treatment) needed for [kidney stones](lesion_type)"})
    assert resp.status == 303
    # correcting again replaces the earlier correction
    client.post(f"/staff/conversations/{cid2}/correct", {
        "event_id": str(event2), "intent": "ask_treatment",
        "text": "is [surgery](treatment) needed for my [kidney stones](lesion_type)"})
    assert scalar(seeded, "SELECT count(*) FROM staff_corrections") == 2
    page = client.get(f"/staff/conversations/{cid2}").text
    assert "Corrected to <strong>ask_treatment</strong>" in page

    listing = client.get("/staff/corrections").text
    assert "is [surgery](treatment) needed for my [kidney stones](lesion_type)" in listing
    assert "nlu_fallback" in listing  # what it was
    resp = client.post("/staff/corrections/export")
    assert resp.status == 200
    assert resp.headers["content-disposition"].startswith('attachment; filename="nlu-corrections-')
    body = resp.text
    assert body.startswith('version: "3.1"') and "nlu:" in body and "- intent: ask_treatment" in body
    path = tmp_path / "corrections.yml"
    path.write_text(body, encoding="utf-8")
    data = load_data(str(path))
    examples = {m.get("text"): m for m in data.training_examples}
    assert set(examples) == {"blorp wibble zzz", "is surgery needed for my kidney stones"}
    assert all(m.get("intent") == "ask_treatment" for m in examples.values())
    entities = {(e["entity"], e["value"]) for e in examples["is surgery needed for my kidney stones"].get("entities")}
    assert entities == {("treatment", "surgery"), ("lesion_type", "kidney stones")}
    assert ("rita", "export_training_data") in audit_actions(seeded)
    assert sum(a == "correct_message" for _, a in audit_actions(seeded)) == 3


def test_corrections_are_validated(client, seeded):
    client.login("rita")
    cid = conv_id(seeded, "conv-fallback")
    event = user_event(seeded, "conv-fallback", "blorp wibble zzz")
    other = user_event(seeded, "conv-old", "what are calcified lesions")
    cases = [
        ({"event_id": str(event), "intent": "no_such_intent", "text": "hello"}, "intent of the assistant's domain"),
        ({"event_id": str(event), "intent": "ask_treatment", "text": "   "}, "empty"),
        ({"event_id": str(event), "intent": "ask_treatment", "text": "[surgery](no_such_entity)"}, "Unknown entity"),
        ({"event_id": str(other), "intent": "ask_treatment", "text": "hello"}, "not part of this conversation"),
        ({"event_id": "abc", "intent": "ask_treatment", "text": "hello"}, "not part of this conversation"),
        ({"event_id": str(event), "intent": "ask_treatment", "text": "x" * 1001}, "at most 1000"),
    ]
    for form, message in cases:
        resp = client.post(f"/staff/conversations/{cid}/correct", form)
        assert resp.status == 400, form
        assert message in html.unescape(resp.text), (form, message)
    assert scalar(seeded, "SELECT count(*) FROM staff_corrections") == 0
    # removing a correction
    client.post(f"/staff/conversations/{cid}/correct", {"event_id": str(event), "intent": "greet", "text": "hi"})
    correction = scalar(seeded, "SELECT id FROM staff_corrections")
    assert client.post(f"/staff/corrections/{correction}/delete").status == 303
    assert client.post(f"/staff/corrections/{correction}/delete").status == 404
    assert client.post("/staff/corrections/export").text.strip() == 'version: "3.1"\nnlu: []'


def test_export_conversations_as_csv_and_json(client, seeded):
    insert_request(seeded, "conv-booking", "CL-CCCC33")
    client.login("rita")
    resp = client.post("/staff/export/conversations", {"format": "csv", "channel": "socketio"})
    assert resp.status == 200 and resp.headers["content-type"].startswith("text/csv")
    assert "attachment" in resp.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    assert {r["conversation_id"] for r in rows} == {"conv-booking", "conv-fallback"}
    texts = " ".join(r["text"] for r in rows)
    assert "my name is ‹name›" in texts and "Anna" not in resp.text and "anna.stone@" not in resp.text
    user_rows = [r for r in rows if r["event"] == "user"]
    assert any(r["intent"] == "nlu_fallback" and r["confidence"] == "0.31" for r in user_rows)
    # a message that looks like a spreadsheet formula is neutralised
    assert any(r["text"] == "'/out_of_scope" or r["text"] == "/out_of_scope" for r in user_rows)

    resp = client.post("/staff/export/conversations", {"format": "json", "emergency": "yes"})
    data = json.loads(resp.text)
    assert data["personal_data_masked"] is True
    [conv] = data["conversations"]
    assert conv["conversation_id"] == "conv-emergency" and conv["channel"] == "telegram"
    assert conv["flags"]["emergency"] is True
    assert [e["event"] for e in conv["events"] if e["event"] in ("user", "bot")] == ["user", "bot"]

    assert client.post("/staff/export/conversations", {"format": "xml"}).status == 400
    assert client.post("/staff/export/conversations", {"format": "csv", "reveal": "1"}).status == 403
    exports = [a for a in audit_actions(seeded) if a[1] == "export_conversations"]
    assert exports == [("rita", "export_conversations")] * 2


def test_formula_cells_are_escaped_in_csv(client, seeded):
    t0 = day_ts(6)
    save_conversations(seeded, {"conv-formula": session_start(t0) + turn(
        "=HYPERLINK(\"http://evil\")", "out_of_scope", 0.5, t0 + 1, "utter_out_of_scope", "Sorry.")})
    client.login("rita")
    resp = client.post("/staff/export/conversations", {"format": "csv", "q": "hyperlink"})
    rows = [r for r in csv.DictReader(io.StringIO(resp.text)) if r["event"] == "user"]
    assert rows[0]["text"] == "'=HYPERLINK(\"http://evil\")"


def test_admin_export_with_personal_data_is_logged(client, seeded):
    client.login("ada")
    resp = client.post("/staff/export/conversations", {"format": "json", "q": "appointment", "reveal": "1"})
    data = json.loads(resp.text)
    assert data["personal_data_masked"] is False
    assert "anna.stone@example.org" in resp.text
    assert ("ada", "reveal") in audit_actions(seeded)


def test_export_limit(client, settings, seeded):
    from dataclasses import replace

    from tests.webapp.conftest import Client, make_app

    with Client(make_app(replace(settings, staff_export_max=2))) as c:
        c.login("rita")
        resp = c.post("/staff/export/conversations", {"format": "csv"})
        assert resp.status == 400 and "5 conversations match" in resp.text
        assert c.post("/staff/export/conversations", {"format": "csv", "channel": "rest"}).status == 200


def test_admin_deletes_a_conversation_like_forget_me(client, seeded):
    insert_request(seeded, "conv-booking", "CL-DDDD44")
    client.login("ada")
    cid = conv_id(seeded, "conv-booking")
    client.post(f"/staff/conversations/{cid}/tags", {"tag": "callback"})
    event = user_event(seeded, "conv-booking", "I want to book an appointment")
    client.post(f"/staff/conversations/{cid}/correct",
                {"event_id": str(event), "intent": "request_appointment", "text": "I want to book an appointment"})
    assert client.post(f"/staff/conversations/{cid}/delete", {}).status == 400  # not confirmed
    assert scalar(seeded, "SELECT count(*) FROM events WHERE sender_id = 'conv-booking'") > 0
    resp = client.post(f"/staff/conversations/{cid}/delete", {"confirm": "yes"})
    assert resp.status == 303
    # at once: requests, events (first purge pass) and all staff data are gone
    for query in ("SELECT count(*) FROM events WHERE sender_id = 'conv-booking'",
                  "SELECT count(*) FROM requests WHERE conversation_id = 'conv-booking'",
                  "SELECT count(*) FROM staff_tags", "SELECT count(*) FROM staff_corrections",
                  "SELECT count(*) FROM staff_conversations WHERE sender_id = 'conv-booking'",
                  "SELECT count(*) FROM staff_messages WHERE sender_id = 'conv-booking'"):
        assert scalar(seeded, query) == 0, query
    # the action server's loop runs the later passes and then records the deletion
    from datetime import timedelta

    from storage.forgetting import run_due_purges
    from storage.requests import RequestStore

    store = RequestStore(seeded)
    try:
        assert [p.conversation_id for p in store.pending_purges()] == ["conv-booking"]
        for _ in range(2):
            run_due_purges(store, now() + timedelta(minutes=5))
        assert store.pending_purges() == []
    finally:
        store.dispose()
    record = sa.create_engine(seeded).connect().execute(sa.select(t.deletion_records)).one()
    assert record.conversation_hash == conversation_hash("conv-booking")
    assert record.requested_via == "staff:ada" and record.deleted_requests == 1 and record.deleted_events > 0
    assert ("ada", "conversation_delete") in audit_actions(seeded)
    assert "conv-booking" not in client.get("/staff/").text
    assert client.get(f"/staff/conversations/{cid}").status == 404
    # other conversations are untouched
    assert scalar(seeded, "SELECT count(*) FROM staff_conversations") == 4


def test_new_events_and_forgotten_conversations_are_picked_up(client, seeded):
    client.login("rita")
    assert "conv-later" not in client.get("/staff/").text
    t0 = day_ts(0, 45)
    save_conversations(seeded, {"conv-later": session_start(t0) + turn(
        "my chest hurts badly", "report_emergency", 0.97, t0 + 1, "action_give_emergency_advice", "Call 112.")})
    page = client.get("/staff/?emergency=yes").text
    assert "conv-later" in page
    # a patient's "forget me" handled by the action server: events and requests go, a record stays
    cid = conv_id(seeded, "conv-old")
    client.post(f"/staff/conversations/{cid}/note", {"note": "about deposits"})
    engine = sa.create_engine(seeded)
    with engine.begin() as conn:
        conn.execute(t.events.delete().where(t.events.c.sender_id == "conv-old"))
        conn.execute(t.deletion_records.insert().values(
            conversation_hash=conversation_hash("conv-old"), requested_via="socketio", deleted_requests=0,
            deleted_events=7, created_at=now()))
    assert "conv-old" not in client.get("/staff/").text
    assert scalar(seeded, "SELECT count(*) FROM staff_reviews WHERE conversation_id = 'conv-old'") == 0
    assert scalar(seeded, "SELECT count(*) FROM staff_messages WHERE sender_id = 'conv-old'") == 0


def test_entities_are_picked_from_the_message_words_and_may_overlap(client, seeded, tmp_path):
    from rasa.shared.nlu.training_data.loading import load_data

    client.login("rita")
    cid = conv_id(seeded, "conv-old")
    event = user_event(seeded, "conv-old", "what are calcified lesions")
    page = client.get(f"/staff/conversations/{cid}").text
    # the form offers the plain message, its entity as kind + words, and the message's words
    assert 'name="text" required maxlength="1000" class="wide" value="what are calcified lesions"' in page
    assert 'value="calcified lesions">' in page and '<option value="calcified lesions">' in page
    assert "[calcified lesions](lesion_type)" not in page.split("<fieldset")[1].split("</fieldset>")[0]
    resp = client.post(f"/staff/conversations/{cid}/correct", {
        "event_id": str(event), "intent": "ask_types", "form": "words", "text": "what are Kidney stones in the kidney",
        "entity_type": ["lesion_type", "location", "", "location"],
        "entity_words": ["kidney stones", "kidney", "", "KIDNEY"]})
    assert resp.status == 303, resp.text[:300]
    stored = scalar(seeded, "SELECT entities FROM staff_corrections")
    import json
    assert json.loads(stored) == [
        {"start": 9, "end": 22, "value": "Kidney stones", "entity": "lesion_type"},
        {"start": 9, "end": 15, "value": "Kidney", "entity": "location"}]  # overlapping, both kept
    page = client.get(f"/staff/conversations/{cid}").text
    assert 'value="Kidney stones"' in page and 'value="Kidney"' in page  # the form shows both again
    body = client.post("/staff/corrections/export").text
    assert body.startswith("# 1 entity span(s) overlapping a longer one are kept in the staff console")
    path = tmp_path / "corrections.yml"
    path.write_text(body, encoding="utf-8")
    [example] = [m for m in load_data(str(path)).training_examples if m.get("intent") == "ask_types"]
    assert [(e["entity"], e["value"]) for e in example.get("entities")] == [("lesion_type", "Kidney stones")]


@pytest.mark.parametrize("kinds, words, error", [
    (["lesion_type"], ["gallstones"], "is not in the message"),
    (["lesion_type"], [""], "needs both its kind and the words"),
    ([""], ["kidney"], "needs both its kind and the words"),
    (["no_such_entity"], ["kidney"], "Unknown entity"),
])
def test_picked_entities_must_be_words_of_the_message(client, seeded, kinds, words, error):
    client.login("rita")
    cid = conv_id(seeded, "conv-old")
    event = user_event(seeded, "conv-old", "what are calcified lesions")
    resp = client.post(f"/staff/conversations/{cid}/correct", {
        "event_id": str(event), "intent": "ask_types", "form": "words", "text": "is a kidney stone bad",
        "entity_type": kinds, "entity_words": words})
    assert resp.status == 400 and error in resp.text
    assert scalar(seeded, "SELECT count(*) FROM staff_corrections") == 0

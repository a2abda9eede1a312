"""Masking: linear in the length of the text, and driven by the one declaration of
personal data (storage/personal_data.py)."""

from __future__ import annotations

import csv
import io
import json
import time

import pytest

from storage.personal_data import PERSONAL_ENTITIES, PERSONAL_REQUEST_FIELDS, PERSONAL_SLOTS
from tests.webapp.conftest import day_ts, insert_request, save_conversations, scalar, session_start, turn
from webapp.staff.masking import Masker, masker_for

# Inputs that made the old patterns rescan the rest of the text from every position.
ADVERSARIAL = {
    "letters": lambda n: "a" * n,
    "digits and spaces": lambda n: "1 " * (n // 2),
    "digits": lambda n: "1" * n,
    "name intro": lambda n: "my name is " + "A" * n,
    "at signs": lambda n: "x@" * (n // 2),
    "dots after at": lambda n: "a@" + "b." * (n // 2),
    "local parts": lambda n: "a." * (n // 2),
    "brackets": lambda n: "](" * (n // 2),
    "spaces after intro": lambda n: "call me" + " " * n + "x",
    "mixed": lambda n: ("Anna-" + "9" * 20 + ".x@y ") * (n // 30),
    "near names": lambda n: "Ann " * (n // 4),
}


def _seconds(func, text: str, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func(text)
        best = min(best, time.perf_counter() - start)
    return best


def _masker() -> Masker:
    return masker_for({"booking_full_name": ["Anna Stone"], "booking_email": ["anna.stone@example.org"],
                       "booking_phone": ["+44 20 7946 0000"], "booking_note": ["please ring after five"]}, [])


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_masking_time_grows_linearly(name):
    """200K characters take about 20 times as long as 10K (linear), never ~400 times
    (quadratic). The bound allows three times linear, for timer noise; each size is
    timed as the best of several runs."""
    make = ADVERSARIAL[name]
    for mask in (_masker(), masker_for({"booking_full_name": ["Anna Stone"]}, [], lowercase=True)):
        small, big = make(10_000), make(200_000)
        t_small = _seconds(mask, small, repeat=7)
        t_big = _seconds(mask, big, repeat=2)
        assert t_big < 60 * t_small, (name, t_small, t_big)


def test_transcript_of_a_100k_character_message_opens(client, seeded):
    t0 = day_ts(0, -50)
    huge = "a" * 100_000
    save_conversations(seeded, {"conv-huge": session_start(t0) + turn(
        huge, "nlu_fallback", 0.1, t0 + 1, "action_default_fallback", "Sorry?")})
    client.login("rita")
    cid = scalar(seeded, "SELECT id FROM staff_conversations WHERE sender_id = 'conv-huge'")
    started = time.perf_counter()
    page = client.get(f"/staff/conversations/{cid}", timeout=60)
    elapsed = time.perf_counter() - started
    assert page.status == 200, elapsed
    assert "shortened" in page.text  # the page says it shows only the start of the message
    assert page.text.count("a" * 1000) < 100


# --- one declaration of personal data ----------------------------------------------

FORM_VALUES = {
    "booking_full_name": "Anna Stone",
    "booking_email": "anna.stone@example.org",
    "booking_phone": "+44 20 7946 0000",
    "booking_note": "Please ring after five, my husband Bertram answers",
    "booking_contact": "anna.stone@example.org, +44 20 7946 0000",
}


def _form_conversation():
    t0 = day_ts(0, -20)
    return session_start(t0) + turn(
        "I want to book an appointment", "request_appointment", 0.95, t0 + 1, "booking_form", "Your full name?",
        slots={"requested_slot": "booking_full_name"}) + turn(
        "Anna Stone", "inform", 0.9, t0 + 5, "booking_form", "Your e-mail address?",
        slots={"booking_full_name": FORM_VALUES["booking_full_name"]},
        entities=[{"entity": "person", "value": "Anna Stone", "start": 0, "end": 10}]) + turn(
        "it is anna.stone@example.org", "inform", 0.9, t0 + 9, "booking_form", "Your phone?",
        slots={"booking_email": FORM_VALUES["booking_email"]}) + turn(
        "+44 20 7946 0000", "inform", 0.9, t0 + 13, "booking_form", "Anything to add?",
        slots={"booking_phone": FORM_VALUES["booking_phone"],
               "booking_contact": FORM_VALUES["booking_contact"]}) + turn(
        FORM_VALUES["booking_note"], "inform", 0.9, t0 + 17, "booking_form",
        "Thanks Anna, we will call you.", slots={"booking_note": FORM_VALUES["booking_note"]}) + turn(
        "Anna here again, is it booked?", "ask_status", 0.9, t0 + 21, "utter_status", "Yes, Anna Stone.")


SECRETS = ["Anna", "Stone", "anna.stone", "example.org", "7946", "ring after five", "Bertram"]


def test_console_masks_exactly_the_declared_personal_data():
    from webapp.staff import masking

    # no list of its own: the module uses the shared declaration
    assert masking.PERSONAL_SLOTS is PERSONAL_SLOTS and masking.PERSONAL_ENTITIES is PERSONAL_ENTITIES
    assert masking.PERSONAL_REQUEST_FIELDS is PERSONAL_REQUEST_FIELDS
    mask = masker_for({slot: [value] for slot, value in FORM_VALUES.items()}, [])
    for slot in PERSONAL_SLOTS:
        assert mask.slot(slot, "anything") == "‹hidden›", slot
    for entity in PERSONAL_ENTITIES:
        assert mask.entity(entity, "anything") == "‹hidden›", entity
    assert mask.slot("booking_specialist", "urologist") == "urologist"
    text = " / ".join(FORM_VALUES.values()) + " / Anna alone / anna alone (lower case stays)"
    shown = mask(text)
    for secret in SECRETS:
        assert secret not in shown, (secret, shown)
    assert "anna alone" in shown  # a lone lower-case part is left readable (kidney stone)


def test_booking_form_data_is_masked_in_transcript_and_exports(client, seeded):
    save_conversations(seeded, {"conv-form": _form_conversation()})
    insert_request(seeded, "conv-form", "CL-FORM11", full_name="Anna Stone", email=FORM_VALUES["booking_email"],
                   phone=FORM_VALUES["booking_phone"], note=FORM_VALUES["booking_note"])
    client.login("rita")  # its first page brings the summaries up to date
    cid = scalar(seeded, "SELECT id FROM staff_conversations WHERE sender_id = 'conv-form'")
    rid = scalar(seeded, "SELECT id FROM requests WHERE reference = 'CL-FORM11'")
    page = client.get(f"/staff/conversations/{cid}?details=1").text
    for secret in SECRETS:
        assert secret not in page, secret
    assert "booking_full_name</span> = <span class=\"mono\">‹hidden›" in page
    assert "Thanks ‹name›, we will call you." in page
    detail = client.get(f"/staff/requests/{rid}").text
    for secret in SECRETS:
        assert secret not in detail, secret
    for fmt in ("csv", "json"):
        resp = client.post("/staff/export/conversations", {"format": fmt, "q": "book an appointment"})
        assert resp.status == 200
        assert "conv-form" in resp.text
        for secret in SECRETS:
            assert secret not in resp.text, (fmt, secret)
    rows = list(csv.DictReader(io.StringIO(client.post(
        "/staff/export/conversations", {"format": "csv", "q": "book an appointment"}).text)))
    slots = {r["name"]: r["value"] for r in rows if r["event"] == "slot"}
    assert all(slots[s] == "‹hidden›" for s in FORM_VALUES), slots

    client.logout_locally()
    client.login("ada")
    revealed = client.post(f"/staff/conversations/{cid}/reveal").text
    for value in FORM_VALUES.values():
        assert value in revealed, value
    export = json.loads(client.post("/staff/export/conversations",
                                    {"format": "json", "q": "book an appointment", "reveal": "1"}).text)
    dumped = json.dumps(export, ensure_ascii=False)
    for value in FORM_VALUES.values():
        assert value in dumped, value
    request_page = client.post(f"/staff/requests/{rid}/reveal").text
    assert "Anna Stone" in request_page and FORM_VALUES["booking_note"] in request_page


def test_dashboard_masks_booking_names():
    mask = masker_for({"booking_full_name": ["Zed Quux"]}, [], lowercase=True)
    assert mask("zed quux here, quux and zed") == "‹name› here, ‹name› and ‹name›"

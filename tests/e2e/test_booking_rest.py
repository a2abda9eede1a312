"""Booking, hand-off and "forget me" through the REST channel of the running assistant.

Needs a trained model (ASSISTANT_MODEL, see tests/e2e/conftest.py). Checks what the
patient sees, what lands in the request store, and that the services' logs (INFO)
never carry the patient's name, e-mail or phone number.
"""

import hashlib
import json
import re
import time
import urllib.request
import uuid

import sqlalchemy as sa

NAME, EMAIL, PHONE = "Rosalind Okafor", "rosalind.okafor@example.org", "07911 123456"


def say(stack, sender: str, text: str) -> str:
    body = json.dumps({"sender": sender, "message": text}).encode()
    request = urllib.request.Request(f"{stack.rasa_url}/webhooks/rest/webhook", body,
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        replies = json.loads(response.read())
    parts = []
    for reply in replies:
        parts.append(reply.get("text") or "")
        parts += [b["title"] for b in reply.get("buttons") or []]
    return "\n".join(parts)


def database(stack) -> sa.engine.Engine:
    return sa.create_engine(stack.env["DATABASE_URL"], future=True)


def wait_for(check, seconds: float):
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.5)


def test_appointment_request_from_question_to_reference(stack):
    sender = f"e2e-booking-{uuid.uuid4().hex[:8]}"
    assert "Nephrologist" in say(stack, sender, "who treats calcium in the kidneys?")

    reply = say(stack, sender, "I'd like to book an appointment")
    assert "appointment request" in reply and "Nephrologist" in reply  # pre-filled from the question
    assert "doesn't look like a full name" in say(stack, sender, "Rosalind")
    reply = say(stack, sender, NAME)
    assert "e-mail address or a phone number" in reply
    assert "doesn't look complete" in say(stack, sender, "rosalind.okafor@example")
    assert "Which day and time" in say(stack, sender, EMAIL)

    assert "already passed" in say(stack, sender, "yesterday")
    reply = say(stack, sender, "I have sudden crushing chest pain")
    assert reply.index("medical emergency") < reply.index("Which day and time")  # emergency first, form resumes
    assert "Anything else the staff should know" in say(stack, sender, "next Tuesday morning")

    reply = say(stack, sender, "how long is recovery after surgery?")
    assert "Recovery" in reply and "Anything else the staff should know" in reply  # answered, then resumed

    reply = say(stack, sender, "no thanks")
    assert "Here is your appointment request" in reply
    assert NAME in reply and EMAIL in reply and "next Tuesday morning" in reply
    reply = say(stack, sender, f"actually my phone is {PHONE}")
    assert "+447911123456" in reply  # the summary again, corrected

    reply = say(stack, sender, "yes")
    match = re.search(r"reference is (CL-[A-Z0-9]{6})", reply)
    assert match, reply

    engine = database(stack)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT reference, kind, specialist, full_name, email, phone, preferred_time_text, channel "
            "FROM requests WHERE conversation_id = :c"), {"c": sender}).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [(match.group(1), "appointment", "Nephrologist", NAME, EMAIL,
                                         "+447911123456", "next Tuesday morning", "rest")]
    # Every answer to the form's questions is recorded as an answer, not as an NLU failure.
    with engine.connect() as conn:
        intents = {json.loads(data).get("text"): intent for data, intent in conn.execute(sa.text(
            "SELECT data, intent_name FROM events WHERE sender_id = :c AND type_name = 'user'"),
            {"c": sender}).all()}
    engine.dispose()
    assert "nlu_fallback" not in intents.values(), intents
    for answer in (NAME, EMAIL, "next Tuesday morning"):
        assert intents[answer] == "inform", (answer, intents[answer])

    for log in ("actions.log", "rasa.log"):
        text = (stack.log_dir / log).read_text(errors="replace")
        for private in (NAME, EMAIL, "7911123456", "7911 123456"):
            assert private not in text, f"{private!r} in {log}"


def test_cancel_stores_nothing(stack):
    sender = f"e2e-cancel-{uuid.uuid4().hex[:8]}"
    assert "request for a second opinion" in say(stack, sender, "I want a second opinion on my scan")
    say(stack, sender, "Rosalind Okafor")
    assert "Nothing was stored" in say(stack, sender, "never mind")
    engine = database(stack)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM requests WHERE conversation_id = :c"),
                            {"c": sender}).scalar_one() == 0
    engine.dispose()


def test_handoff_then_forget_me(stack):
    sender = f"e2e-forget-{uuid.uuid4().hex[:8]}"
    reply = say(stack, sender, "can I talk to a real person please")
    assert re.search(r"reference is CL-[A-Z0-9]{6}", reply), reply
    assert "can't be undone" in say(stack, sender, "forget me")
    assert "Done." in say(stack, sender, "yes")

    engine = database(stack)

    def count(table: str, column: str) -> int:
        with engine.connect() as conn:
            return conn.execute(sa.text(f"SELECT count(*) FROM {table} WHERE {column} = :c"),
                                {"c": sender}).scalar_one()

    assert count("requests", "conversation_id") == 0
    assert wait_for(lambda: count("events", "sender_id") == 0, 15)
    digest = hashlib.sha256(sender.encode()).hexdigest()

    def recorded():
        with engine.connect() as conn:
            return conn.execute(sa.text(
                "SELECT requested_via, deleted_requests, deleted_events FROM deletion_records "
                "WHERE conversation_hash = :h"), {"h": digest}).first()

    record = wait_for(recorded, 45)
    engine.dispose()
    assert record is not None
    assert record[0] == "rest" and record[1] == 1 and record[2] > 0

"""The inbox and live take-over routes without Rasa (the take-over through a running Rasa is
tests/e2e/test_live_takeover.py), the desk role, the queue's preferred time, overdue marks and
order, the notification state, and times in the clinic's zone."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from storage.time import utcnow
from tests.webapp.conftest import Client, create_account, insert_request, make_app, scalar, with_settings


def test_the_inbox_lists_who_waits_for_a_person_with_a_count_everywhere(client, seeded):
    insert_request(seeded, "conv-booking", "CL-WAIT11", kind="handoff", created_at=utcnow() - timedelta(minutes=42))
    insert_request(seeded, "conv-emergency", "CL-WAIT22", kind="handoff", created_at=utcnow() - timedelta(minutes=1))
    insert_request(seeded, "conv-old", "CL-DONE33", kind="handoff", status="contacted")
    insert_request(seeded, "conv-script", "CL-BOOK44")  # an appointment request: not for the inbox
    client.login("rita")
    assert client.get("/staff/inbox/count").json == {"waiting": 2}
    page = client.get("/staff/inbox").text
    assert page.index("CL-WAIT11") < page.index("CL-WAIT22")  # longest waiting first
    assert "CL-DONE33" not in page and "CL-BOOK44" not in page
    waiting = re.search(r"<td>(.*?)</td>\s*<td><a href=\"/staff/requests/\d+\">CL-WAIT22", page, re.S).group(1)
    assert "badge new" in waiting  # arrived in the last five minutes
    assert "I want to book an appointment" in page  # the first message of the conversation
    # the count of people waiting is in the navigation of every page
    assert '<span class="count-number">2</span>' in client.get("/staff/requests").text
    assert "Live take-over is off" in page  # this console has no STAFF_RELAY_TOKEN


def test_without_the_relay_taking_over_says_why_and_changes_nothing(client, seeded):
    client.login("rita")
    cid = scalar(seeded, "SELECT id FROM staff_conversations WHERE sender_id = 'conv-booking'")
    for path, form in (("take", {}), ("reply", {"text": "hello"}), ("handback", {})):
        resp = client.post(f"/staff/conversations/{cid}/{path}", form)
        assert resp.status == 409 and "Live take-over is off" in resp.text, path
    assert client.post(f"/staff/conversations/{cid}/reply", {"text": "  "}).status == 400
    assert client.post(f"/staff/conversations/{cid}/reply", {"text": "x" * 2001}).status == 400
    assert client.post("/staff/conversations/999999/take").status == 404
    assert scalar(seeded, "SELECT count(*) FROM staff_holds") == 0
    assert scalar(seeded, "SELECT count(*) FROM staff_audit_log WHERE action LIKE 'live_%'") == 0


def test_the_live_feed_gives_new_messages_with_their_authors(client, seeded):
    client.login("rita")
    cid = scalar(seeded, "SELECT id FROM staff_conversations WHERE sender_id = 'conv-booking'")
    feed = client.get(f"/staff/conversations/{cid}/live", params={"after": 0}).json
    assert feed["holder"] is None
    assert [m["who"] for m in feed["messages"]] == ["patient", "assistant"] * 3
    # personal data masked as on the transcript
    assert "‹email›" in feed["messages"][4]["text"] and "anna" not in str(feed).lower()
    last = feed["messages"][-1]["id"]
    assert client.get(f"/staff/conversations/{cid}/live", params={"after": last}).json["messages"] == []
    assert client.get("/staff/conversations/999999/live").status == 404
    assert client.get(f"/staff/conversations/{cid}/live", params={"after": "x'; DROP"}).status == 200


def test_the_desk_role_reveals_request_contacts_and_reviewers_do_not(settings, seeded):
    create_account(seeded, "dora", "desk")
    rid = insert_request(seeded, "conv-booking", "CL-DESK11")
    with Client(make_app(settings)) as client:
        client.login("rita")
        client.get(f"/staff/requests/{rid}")
        assert "Reveal contact details" not in client.get(f"/staff/requests/{rid}").text
        refused = client.post(f"/staff/requests/{rid}/reveal")
        assert refused.status == 403 and "desk or admin" in refused.text
        client.logout_locally()
        client.login("dora")
        assert "Reveal contact details" in client.get(f"/staff/requests/{rid}").text
        shown = client.post(f"/staff/requests/{rid}/reveal").text
        assert "anna.stone@example.org" in shown and "+4915112345678" in shown
        # ... but a conversation's personal data stays masked, and accounts stay admin-only
        cid = scalar(seeded, "SELECT id FROM staff_conversations WHERE sender_id = 'conv-booking'")
        assert client.post(f"/staff/conversations/{cid}/reveal").status == 403
        assert client.get("/staff/users").status == 403
    actions = sa.create_engine(seeded).connect().execute(sa.text(
        "SELECT actor FROM staff_audit_log WHERE action = 'reveal' AND target LIKE 'request:%'")).scalars().all()
    assert actions == ["dora"]


def test_queue_shows_preferred_times_marks_overdue_requests_and_sorts_by_waiting(settings, seeded):
    old = insert_request(seeded, "conv-booking", "CL-OLD111", created_at=utcnow() - timedelta(hours=30))
    insert_request(seeded, "conv-old", "CL-OLD222", status="contacted", created_at=utcnow() - timedelta(hours=50))
    insert_request(seeded, "conv-script", "CL-NEW333", created_at=utcnow() - timedelta(hours=1))
    with Client(make_app(with_settings(settings, staff_response_time="within one working day"))) as client:
        client.login("rita")
        page = client.get("/staff/requests").text
        assert page.index("CL-NEW333") < page.index("CL-OLD111")  # newest first by default
        row = lambda ref, text=page: re.search(rf"<tr>(?:(?!<tr>).)*?{ref}.*?</tr>", text, re.S).group(0)
        assert "overdue" in row("CL-OLD111") and "overdue" not in row("CL-NEW333")
        assert "overdue" not in row("CL-OLD222")  # handled already
        assert "Tuesday morning" in row("CL-NEW333")  # the preferred time, in the patient's words
        waiting = client.get("/staff/requests", params={"sort": "waiting"}).text
        assert waiting.index("CL-OLD222") < waiting.index("CL-OLD111") < waiting.index("CL-NEW333")
        assert "Unknown order" in client.get("/staff/requests", params={"sort": "bogus"}).text
        assert "no notifier configured" in client.get(f"/staff/requests/{old}").text


def test_notification_state_names_the_notifiers(settings, seeded):
    rid = insert_request(seeded, "conv-booking", "CL-NOTE11")
    with Client(make_app(with_settings(settings, staff_notifiers=("Slack",)))) as client:
        client.login("rita")
        assert "not yet (0 attempts by Slack)" in client.get(f"/staff/requests/{rid}").text


def test_times_are_shown_in_the_clinics_time_zone(settings, seeded):
    created = datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc)
    rid = insert_request(seeded, "conv-booking", "CL-ZONE11", created_at=created, updated_at=created)
    with Client(make_app(with_settings(settings, clinic_timezone="Asia/Kolkata"))) as client:  # UTC+05:30
        client.login("rita")
        page = client.get(f"/staff/requests/{rid}").text
        assert "2026-11-30 15:30 Asia/Kolkata" in page and " UTC" not in page
    with Client(make_app(settings)) as client:  # the next console (default UTC) is not affected
        client.login("rita")
        assert "2026-11-30 10:00 UTC" in client.get(f"/staff/requests/{rid}").text


def test_the_tracker_decides_who_holds_a_conversation(settings, seeded):
    """The console's record follows Rasa's tracker: a new session (after an hour of the
    patient's silence) or a hand-back from elsewhere ends the hold on the console too."""
    from rasa.shared.core.events import SessionStarted, SlotSet

    from tests.webapp.conftest import day_ts, save_conversations, session_start, turn

    t0 = day_ts(0, 20)
    held = session_start(t0) + turn("a person please", "request_human", 0.9, t0 + 1, "action_request_handoff",
                                    "I've asked the team.") + [SlotSet("live_agent", "rita", timestamp=t0 + 5)]
    save_conversations(seeded, {"conv-held": held})
    with Client(make_app(with_settings(settings, relay_token="relay-token-not-called-here"))) as client:
        holds_follow_the_tracker(client, seeded, held, t0)


def holds_follow_the_tracker(client, seeded, held, t0):
    from rasa.shared.core.events import SessionStarted

    from tests.webapp.conftest import save_conversations

    client.login("rita")
    cid = scalar(seeded, "SELECT id FROM staff_conversations WHERE sender_id = 'conv-held'")
    assert "You hold this conversation" in client.get(f"/staff/conversations/{cid}").text
    assert scalar(seeded, "SELECT held_by FROM staff_holds WHERE conversation_id = 'conv-held'") == "rita"
    assert "rita (you)" in client.get("/staff/inbox").text
    # an hour later the patient writes again: Rasa starts a new session, which clears the slot
    save_conversations(seeded, {"conv-held": held + [SessionStarted(timestamp=t0 + 3700)]})
    assert client.get(f"/staff/conversations/{cid}/live", params={"after": 0}).json["holder"] is None
    assert scalar(seeded, "SELECT count(*) FROM staff_holds") == 0
    assert "The assistant answers this conversation" in client.get(f"/staff/conversations/{cid}").text
    assert "No conversation is held by a person" in client.get("/staff/inbox").text


def test_rasa_down_gives_staff_a_clear_answer_and_records_nothing(settings, seeded):
    from tools.scaled import free_port_block

    down = with_settings(settings, relay_token="relay-token-for-a-stopped-rasa",
                         relay_url=f"http://127.0.0.1:{free_port_block(1)}")
    with Client(make_app(down)) as client:
        client.login("rita")
        cid = scalar(seeded, "SELECT id FROM staff_conversations WHERE sender_id = 'conv-booking'")
        for path, form in (("take", {}), ("reply", {"text": "hello"}), ("handback", {})):
            resp = client.post(f"/staff/conversations/{cid}/{path}", form)
            assert resp.status == 502 and "could not be reached" in resp.text, (path, resp.status)
    assert scalar(seeded, "SELECT count(*) FROM staff_holds") == 0
    assert scalar(seeded, "SELECT count(*) FROM staff_audit_log WHERE action LIKE 'live_%'") == 0

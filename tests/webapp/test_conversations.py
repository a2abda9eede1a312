"""The conversation list, its filters and search, transcripts, masking and revealing."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from tests.webapp.conftest import (SCRIPT, Client, day_ts, insert_request, make_app, save_conversations,
                                   scalar, session_start, turn, with_settings)


def conv_id(url: str, sender: str) -> int:
    return scalar(url, "SELECT id FROM staff_conversations WHERE sender_id = :s", s=sender)


def listed(page_html: str):
    """Conversation ids of the list page's rows, in order."""
    return re.findall(r'<a href="/staff/conversations/\d+" class="mono small">([^<]+)</a>', page_html)


def test_list_shows_every_conversation_newest_first_with_flags(client, seeded):
    client.login("rita")
    page = client.get("/staff/")
    assert page.status == 200
    assert listed(page.text) == ["conv-script", "conv-booking", "conv-emergency", "conv-fallback", "conv-old"]
    assert "5 in total" in page.text
    row = re.search(r"<tr>\s*<td><a[^>]*>[^<]*</a></td>\s*<td><a[^>]*>conv-emergency</a>"
                    r".*?</tr>", page.text, flags=re.S).group(0)
    assert "telegram" in row and "badge emergency" in row and "badge fallback" not in row
    row = re.search(r"conv-fallback</a>.*?</tr>", page.text, flags=re.S).group(0)
    assert "badge fallback" in row and "badge low" in row
    row = re.search(r"conv-booking</a>.*?</tr>", page.text, flags=re.S).group(0)
    assert "badge request" not in row  # no request row yet
    assert "<td>3 / 3</td>" in row  # patient / assistant messages


def test_pagination(settings, seeded):
    t0 = day_ts(3)
    save_conversations(seeded, {f"bulk-{i:02d}": session_start(t0 + i * 60) + turn(
        f"question number {i}", "ask_definition", 0.9, t0 + i * 60 + 1, "action_answer_question", "Answer.")
        for i in range(12)})
    with Client(make_app(with_settings(settings, staff_page_size=5))) as c:
        c.login("rita")
        first = c.get("/staff/")
        assert "Page 1 of 4" in first.text and len(listed(first.text)) == 5
        seen = []
        for page in range(1, 5):
            seen += listed(c.get(f"/staff/?page={page}").text)
        assert len(seen) == 17 and len(set(seen)) == 17
        assert seen.index("bulk-11") < seen.index("bulk-00")
        assert listed(c.get("/staff/?page=999").text) == listed(c.get("/staff/?page=4").text)
        assert c.get("/staff/?page=abc").status == 200


@pytest.mark.parametrize("query, expected", [
    ("fallback=yes", {"conv-fallback"}),
    ("fallback=no", {"conv-script", "conv-booking", "conv-emergency", "conv-old"}),
    ("low_confidence=yes", {"conv-fallback", "conv-script"}),
    ("emergency=yes", {"conv-emergency"}),
    ("channel=telegram", {"conv-emergency"}),
    ("channel=rest", {"conv-script", "conv-old"}),
    ("q=CHEST+pain", {"conv-emergency"}),
    ("q=calcified", {"conv-old"}),
    ("q=treated", {"conv-script"}),
    ("reviewed=no", {"conv-script", "conv-booking", "conv-emergency", "conv-fallback", "conv-old"}),
    ("reviewed=yes", set()),
])
def test_filters(client, query, expected):
    client.login("rita")
    page = client.get(f"/staff/?{query}")
    assert page.status == 200
    assert set(listed(page.text)) == expected


def test_date_range_filter(client):
    client.login("rita")
    today = day_ts(0)
    from datetime import datetime, timezone

    day = lambda ts: datetime.fromtimestamp(ts, tz=timezone.utc).date().isoformat()  # noqa: E731
    page = client.get(f"/staff/?from={day(day_ts(2))}&to={day(day_ts(1))}")
    assert set(listed(page.text)) == {"conv-fallback", "conv-emergency"}
    page = client.get(f"/staff/?from={day(today)}")
    assert set(listed(page.text)) == {"conv-script", "conv-booking"}
    page = client.get("/staff/?from=not-a-date&to=2024-13-45")
    assert page.status == 200 and "is not a date" in page.text
    assert len(listed(page.text)) == 5


def test_request_review_and_tag_filters(client, seeded):
    insert_request(seeded, "conv-booking", "CL-AAAA11")
    client.login("rita")
    assert set(listed(client.get("/staff/?request=yes").text)) == {"conv-booking"}
    assert "conv-booking" not in listed(client.get("/staff/?request=no").text)
    cid = conv_id(seeded, "conv-old")
    assert client.post(f"/staff/conversations/{cid}/review", {"reviewed": "1"}).status == 303
    assert client.post(f"/staff/conversations/{cid}/tags", {"tag": "Missing Answer"}).status == 303
    assert set(listed(client.get("/staff/?reviewed=yes").text)) == {"conv-old"}
    assert "conv-old" not in listed(client.get("/staff/?reviewed=no").text)
    assert set(listed(client.get("/staff/?tag=missing+answer").text)) == {"conv-old"}
    page = client.get("/staff/?request=yes&reviewed=no&channel=socketio")
    assert set(listed(page.text)) == {"conv-booking"}


@pytest.mark.parametrize("attack", [
    "' OR '1'='1", "%' OR 1=1 --", "'; DROP TABLE events; --", "%", "z_z", "\\", "\") OR (\"a\"=\"a",
])
def test_filters_and_search_are_parameterised(client, seeded, attack):
    client.login("rita")
    for name in ("q", "channel", "tag"):
        page = client.get("/staff/", params={name: attack})
        assert page.status == 200
        assert listed(page.text) == [], (name, attack)
    page = client.get("/staff/", params={"fallback": attack, "from": attack})
    assert page.status == 200 and "was ignored" in page.text
    assert scalar(seeded, "SELECT count(*) FROM events") > 0
    assert scalar(seeded, "SELECT count(*) FROM staff_conversations") == 5


def test_like_wildcards_in_search_are_literal(client, seeded):
    t0 = day_ts(4)
    save_conversations(seeded, {"conv-percent": session_start(t0) + turn(
        "is 100% recovery possible", "ask_recovery", 0.9, t0 + 1, "action_answer_question", "Mostly.")})
    client.login("rita")
    assert listed(client.get("/staff/", params={"q": "100%"}).text) == ["conv-percent"]
    assert listed(client.get("/staff/", params={"q": "1_0"}).text) == []


def test_transcript_shows_messages_and_on_demand_nlu_actions_slots_and_times(client, seeded):
    client.login("rita")
    url = f"/staff/conversations/{conv_id(seeded, 'conv-old')}"
    text = client.get(url).text
    # by default the messages, each with how it was understood behind a disclosure
    assert "what are calcified lesions" in text and "Calcified lesions are deposits of calcium." in text
    assert '<strong class="intent">ask_definition</strong>' in text and ">0.98<" in text
    assert "lesion_type = calcified lesions" in text
    assert "action_answer_question" not in text and "session started" not in text
    assert re.search(r'<div class="when">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d</div>', text)
    # the correction form is pre-filled with the plain message and its entity's kind and words
    assert 'class="wide" value="what are calcified lesions"' in text
    assert '<option value="lesion_type" selected>' in text and 'list="words-' in text
    # every event on demand
    page = client.get(url, params={"details": "1"})
    assert page.status == 200
    assert "action_answer_question" in page.text and "RulePolicy" in page.text
    assert "session started" in page.text
    fallback = client.get(f"/staff/conversations/{conv_id(seeded, 'conv-fallback')}",
                          params={"details": "1"}).text
    assert "action_two_stage_fallback" in fallback and "badge fallback" in fallback
    assert "Treatment options" in fallback  # the button offered
    assert "conf low" in fallback


def test_user_text_is_escaped_everywhere(client, seeded):
    client.login("rita")
    cid = conv_id(seeded, "conv-script")
    page = client.get(f"/staff/conversations/{cid}").text
    assert "<script>" not in page
    assert html.escape(SCRIPT, quote=True) in page or "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in page
    client.post(f"/staff/conversations/{cid}/note", {"note": "<img src=x onerror=alert(1)> follow up"})
    page = client.get(f"/staff/conversations/{cid}").text
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt; follow up" in page
    resp = client.post(f"/staff/conversations/{cid}/tags", {"tag": "<b>bold</b>"})
    assert resp.status == 400 and "<b>bold</b>" not in resp.text
    search = client.get("/staff/", params={"q": "<script>alert(1)</script>"}).text
    assert "<script>alert(1)" not in search and "&lt;script&gt;alert(1)&lt;/script&gt;" in search


def test_personal_data_is_masked_and_only_admins_reveal_it(client, seeded):
    insert_request(seeded, "conv-booking", "CL-BBBB22", full_name="Anna Stone")
    cid = conv_id(seeded, "conv-booking")
    client.login("rita")
    page = client.get(f"/staff/conversations/{cid}?details=1").text
    for secret in ("Anna", "Stone", "anna.stone@example.org", "+49 151 12345678", "+4915112345678"):
        assert secret not in page, secret
    assert "my name is ‹name›" in page and "‹email›" in page and "‹phone›" in page
    assert "full_name</span> = <span class=\"mono\">‹hidden›" in page
    assert "Thank you ‹name›, we will contact you at ‹email›." in page
    assert "Reveal personal data" not in page
    assert client.post(f"/staff/conversations/{cid}/reveal").status == 403

    client.logout_locally()
    client.login("ada")
    page = client.get(f"/staff/conversations/{cid}").text
    assert "Anna" not in page and "Reveal personal data" in page
    revealed = client.post(f"/staff/conversations/{cid}/reveal")
    assert revealed.status == 200
    assert "my name is Anna Stone" in revealed.text and "anna.stone@example.org" in revealed.text
    assert "shown unmasked" in revealed.text
    assert revealed.headers["cache-control"] == "no-store"
    row = sa.create_engine(seeded).connect().execute(sa.text(
        "SELECT actor, target, at FROM staff_audit_log WHERE action = 'reveal'")).one()
    assert row.actor == "ada" and row.target.startswith("conversation:") and row.at is not None
    # a reveal is not sticky: the next plain view is masked again
    assert "Anna" not in client.get(f"/staff/conversations/{cid}").text


def test_unknown_conversation_is_404(client):
    client.login("rita")
    assert client.get("/staff/conversations/999999").status == 404
    assert client.post("/staff/conversations/999999/review", {"reviewed": "1"}).status == 404


def test_long_transcripts_are_paged(client, seeded):
    t0 = day_ts(5)
    events = session_start(t0)
    for i in range(80):  # 4 events per turn: 323 events
        events += turn(f"message {i}", "ask_more", 0.9, t0 + 10 * i + 1, "action_answer_question", f"reply {i}")
    save_conversations(seeded, {"conv-long": events})
    client.login("rita")
    cid = conv_id(seeded, "conv-long")
    first = client.get(f"/staff/conversations/{cid}").text
    assert "Page 1 of 2" in first and "message 0" in first and "message 79" not in first
    second = client.get(f"/staff/conversations/{cid}?page=2").text
    assert "message 79" in second and "message 0<" not in second



def test_rows_show_the_first_message_last_activity_and_what_a_search_matched(client, seeded):
    client.login("rita")
    page = client.get("/staff/").text
    row = next(r for r in page.split("<tr>") if "conv-booking" in r)
    assert '<p class="first">I want to book an appointment</p>' in row
    assert "Last activity (UTC)" in page
    found = client.get("/staff/", params={"q": "call"}).text
    row = next(r for r in found.split("<tr>") if "conv-booking" in r)
    # the matching message, with its personal data masked as on the transcript
    assert "Matched: </span>‹email›, or call ‹phone›" in row
    assert "anna.stone" not in found and "12345678" not in found

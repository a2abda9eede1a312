"""What patients expect of a chat, in a real headless Chromium against the running assistant:
times, an unread count on the chat button, "Save a copy", "Start over", thumbs on answers, dark
mode, the patient page's layout, and axe-core (WCAG 2.2 AA) in both themes, on desktop and
phone sizes, with the panel open and closed. Screenshots go to reports/screenshots/."""

from __future__ import annotations

import re

import pytest

from tests.browser.test_widget import (ANSWER_TIMEOUT, CONNECTED, SHOTS, OtherSite, ask, axe_violations,  # noqa: F401
                                       browser, channels, open_page, page_errors)

DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
QUESTION = "what types are there?"
ANSWER = "several types of calcified lesions"


def floating_site(channels, extra: str = "") -> OtherSite:
    snippet = (f'<script src="{channels.web_url}/widget.js" data-socket-url="{channels.rasa_url}" '
               f'data-title="Clinic assistant" {extra} defer></script>')
    return OtherSite(("<!doctype html><html lang='en'><head><title>Clinic</title><link rel='icon' href='data:,'>"
                      "<meta name='viewport' content='width=device-width, initial-scale=1'></head>"
                      f"<body><main><h1>Our clinic</h1><p>Welcome.</p></main>{snippet}</body></html>").encode())


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"widget-{name}.png"))


def test_times_unread_count_feedback_save_and_start_over(channels, browser, page_errors):
    site = floating_site(channels)
    context, page = open_page(browser, site.url, page_errors, **PHONE)
    try:
        launcher = page.locator(".clw-launcher")
        launcher.click()
        page.wait_for_function(CONNECTED)
        ask(page, QUESTION)
        answer = page.locator(".clw-bot", has_text=ANSWER)
        answer.wait_for()
        # a time under the patient's message and under the answer, once per sender and minute
        mine = page.locator(".clw-user").last.locator("time")
        assert re.fullmatch(r"\d{1,2}:\d{2}( ?[AP]M)?", mine.inner_text()), mine.inner_text()
        assert mine.get_attribute("datetime").endswith("Z")
        assert page.locator(".clw-bot time").count() >= 1

        # thumbs on the answer, stored for the console
        answer.get_by_role("button", name="Helpful", exact=True).click()
        answer.locator(".clw-rate-thanks", has_text="Thanks").wait_for()
        assert answer.get_by_role("button", name="Helpful", exact=True).get_attribute("aria-pressed") == "true"
        shot(page, "feedback")

        # a reply arriving while the panel is closed is counted on the chat button
        page.get_by_label("Your message").fill("how do I prepare for my appointment?")
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        assert page.locator(".clw-panel").is_hidden()
        badge = page.locator(".clw-badge")
        badge.wait_for()
        assert int(re.search(r"\d+", badge.inner_text()).group()) >= 1  # the number is what shows
        assert re.fullmatch(r"Chat with the Clinic assistant, \d+ new messages?", launcher.text_content())
        assert axe_violations(page) == []
        shot(page, "unread")
        launcher.click()
        assert badge.is_hidden() and launcher.text_content() == "Chat with the Clinic assistant"

        # "Save a copy": the conversation as a text file, made in the browser
        with page.expect_download() as download:
            page.get_by_role("button", name="Save a copy").click()
        saved = download.value
        assert re.fullmatch(r"conversation-\d{4}-\d{2}-\d{2}\.txt", saved.suggested_filename)
        text = open(saved.path(), encoding="utf-8", newline="").read()  # Windows line ends, for Notepad
        assert "not a diagnosis" in text and f"You:\r\n{QUESTION}" in text
        assert "Assistant:" in text and ANSWER in text and "Choices: " in text

        # "Start over": asked first, then this browser forgets the conversation
        token = page.evaluate("() => localStorage.getItem('clinicAssistant.token')")
        page.get_by_role("button", name="Start over").click()
        question = page.get_by_role("group", name=re.compile("Start a new conversation"))
        assert "delete my data" not in question.inner_text() and "Delete it at the clinic" in question.inner_text()
        assert page.evaluate("() => document.activeElement.textContent") == "Yes, start over"
        assert axe_violations(page) == []
        shot(page, "start-over")
        question.get_by_role("button", name="Yes, start over").click()
        page.locator(".clw-welcome").wait_for()
        assert page.locator(".clw-user").count() == 0
        assert page.evaluate("() => localStorage.getItem('clinicAssistant.token')") != token
        page.wait_for_function(CONNECTED)
        ask(page, "who treats them?")  # the new conversation works
        page.wait_for_function("() => document.querySelectorAll('.clw-bot:not(.clw-welcome)').length > 0")
        page.reload()
        page.locator(".clw-launcher").click()
        page.locator(".clw-user", has_text="who treats them?").wait_for()
        assert page.locator(".clw-user", has_text=QUESTION).count() == 0  # the old one stays forgotten here
        assert page_errors == []
    finally:
        context.close()
        site.stop()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_axe_clean_in_both_themes_and_sizes_with_the_panel_open_and_closed(channels, browser, page_errors,
                                                                             scheme, size):
    options = dict(DESKTOP if size == "desktop" else PHONE, color_scheme=scheme)
    context, page = open_page(browser, channels.web_url + "/", page_errors, **options)
    try:  # the patient page: the chat in the page
        page.wait_for_function(CONNECTED)
        panel = page.evaluate("() => getComputedStyle(document.querySelector('.clw-panel')).backgroundColor")
        assert panel == ("rgb(17, 26, 34)" if scheme == "dark" else "rgb(255, 255, 255)")
        assert axe_violations(page) == [], "patient page"
        if size == "desktop":  # the whole chat, input included, without scrolling
            box = page.locator(".clw-input").bounding_box()
            assert box["y"] + box["height"] <= 800, box
        ask(page, QUESTION)
        page.locator(".clw-bot", has_text=ANSWER).wait_for()
        assert axe_violations(page) == [], "patient page with an answer"
        shot(page, f"{scheme}-{size}")
        site = floating_site(channels)
        try:  # a clinic's own page: the chat button, then the panel open
            page.goto(site.url)
            launcher = page.locator(".clw-launcher")
            launcher.wait_for()
            assert axe_violations(page) == [], "panel closed"
            launcher.click()
            page.wait_for_function(CONNECTED)
            ask(page, QUESTION)  # another origin: its own conversation
            page.locator(".clw-bot", has_text=ANSWER).wait_for()
            assert axe_violations(page) == [], "panel open"
        finally:
            site.stop()
        assert page_errors == []
    finally:
        context.close()


def test_a_clinic_colour_and_texts_from_the_snippet(channels, browser, page_errors):
    site = floating_site(channels, 'data-color="#7a1f5c" data-greeting="Welcome to St Mary\'s." '
                                   'data-suggestions="Is it cancer?|What happens next?" data-emergency-number="999"')
    context, page = open_page(browser, site.url, page_errors, **DESKTOP)
    try:
        page.locator(".clw-launcher").click()
        welcome = page.locator(".clw-welcome")
        welcome.wait_for()
        assert welcome.locator(".clw-bubble").inner_text().startswith("Welcome to St Mary's. In an emergency, call 999 now.")
        assert welcome.get_by_role("button").all_inner_texts() == ["Is it cancer?", "What happens next?"]
        colour = page.evaluate("() => getComputedStyle(document.querySelector('.clw-header')).backgroundColor")
        assert colour == "rgb(122, 31, 92)"
        assert axe_violations(page) == []
    finally:
        context.close()
        site.stop()
    light = floating_site(channels, 'data-color="#ffcc00"')  # white text on yellow: refused, default kept
    context, page = open_page(browser, light.url, page_errors, **DESKTOP)
    warnings = []
    page.on("console", lambda message: warnings.append(message.text) if message.type == "warning" else None)
    try:
        page.reload()
        page.locator(".clw-launcher").click()
        colour = page.evaluate("() => getComputedStyle(document.querySelector('.clw-header')).backgroundColor")
        assert colour == "rgb(11, 79, 138)"
        assert any("data-color #ffcc00 ignored" in w for w in warnings), warnings
    finally:
        context.close()
        light.stop()

"""The staff console in a real headless Chromium: log in, filter, open a transcript,
mark it reviewed, correct an intent, export training data; axe-core (WCAG 2.2 AA) on every
page. Screenshots go to reports/screenshots/staff-*.png.

The web app runs as `python -m webapp` on a free loopback port, on a SQLite
database seeded with conversations written by Rasa's own tracker store.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.webapp.conftest import (PASSWORD, create_account, create_request_tables, free_port,
                                   insert_request, save_conversations, standard_conversations)

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "reports" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip("needs Debian's chromium: apt-get install -y chromium")
    folder = tmp_path_factory.mktemp("staff-browser")
    url = f"sqlite:///{folder / 'assistant.db'}"
    create_request_tables(url)
    save_conversations(url, standard_conversations())
    insert_request(url, "conv-booking", "CL-BROW11")
    create_account(url, "ada", "admin")
    port = free_port()
    env = dict(os.environ, DATABASE_URL=url, WEB_PORT=str(port), RASA_TELEMETRY_ENABLED="false")
    log = open(folder / "web.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "webapp"], cwd=ROOT, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/staff/login", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((folder / "web.log").read_text()[-2000:])
                time.sleep(0.3)
        yield base, url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"staff-{name}.png"), full_page=True)


def test_review_loop_in_a_real_browser(console, browser, tmp_path):
    from rasa.shared.nlu.training_data.loading import load_data

    base, _ = console
    context = browser.new_context(accept_downloads=True, viewport={"width": 1360, "height": 900})
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    page.goto(f"{base}/staff/")
    assert page.url.startswith(f"{base}/staff/login")
    shot(page, "1-login")
    page.fill("input[name=username]", "ada")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/staff/")
    assert page.locator("table.list tbody tr").count() == 5
    shot(page, "2-conversations")

    page.select_option("select[name=fallback]", "yes")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**fallback=yes**")
    rows = page.locator("table.list tbody tr")
    assert rows.count() == 1 and "conv-fallback" in rows.first.inner_text()
    shot(page, "3-filtered")

    rows.first.locator("a").first.click()
    page.wait_for_url("**/staff/conversations/*")
    first = page.locator("li.ev.user").first
    assert first.locator("summary").inner_text().startswith("How it was understood: nlu_fallback")
    first.locator("summary").click()  # intent, confidence and entities on demand
    assert first.locator(".intent").inner_text() == "nlu_fallback"
    assert "blorp wibble zzz" in page.locator("ol.transcript").inner_text()
    shot(page, "4-transcript")

    page.click("text=Mark reviewed")
    page.wait_for_selector("text=Marked as reviewed.")
    assert "Reviewed by ada" in page.inner_text("section.review")

    first = page.locator("li.ev.user").first
    first.locator("summary").click()
    first.locator("select[name=intent]").select_option("ask_treatment")
    first.locator("input[name=text]").fill("how is surgery done")
    first.locator("select[name=entity_type]").first.select_option("treatment")  # the entity: a kind and
    first.locator("input[name=entity_words]").first.fill("surgery")  # words of the message, no syntax
    first.locator("button", has_text="Save correction").click()
    page.wait_for_selector("text=Correction saved.")
    assert "Corrected to ask_treatment" in page.locator("li.ev.user").first.inner_text()
    shot(page, "5-corrected")

    page.click("nav >> text=Training data")
    page.wait_for_url(f"{base}/staff/corrections")
    assert "how is [surgery](treatment) done" in page.inner_text("table.list")
    shot(page, "6-training-data")
    with page.expect_download() as download_info:
        page.click("text=Export training data")
    path = tmp_path / "corrections.yml"
    download_info.value.save_as(str(path))
    body = path.read_text(encoding="utf-8")
    assert body.startswith('version: "3.1"')
    [example] = load_data(str(path)).training_examples
    assert example.get("intent") == "ask_treatment" and example.get("text") == "how is surgery done"
    assert [(e["entity"], e["value"]) for e in example.get("entities")] == [("treatment", "surgery")]

    page.click("nav >> text=Dashboard")
    page.wait_for_selector("svg.chart")
    assert page.locator("svg.chart").count() == 6
    shot(page, "7-dashboard")
    page.click("nav >> text=Requests")
    page.click("text=CL-BROW11")
    page.select_option("select[name=status]", "contacted")
    page.click("text=Set status")
    page.wait_for_selector("text=Status updated.")
    shot(page, "8-request")
    assert errors == []  # no CSP violations or script errors
    context.close()


AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PAGES = ["/staff/login", "/staff/", "/staff/?q=lesions", "/staff/inbox", "/staff/requests",
         "/staff/corrections", "/staff/dashboard", "/staff/users", "/staff/audit", "/staff/account"]


def axe_violations(page):
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))  # inline: allowed by bypass_csp, for axe only
    return page.evaluate("""async () => {
        const result = await axe.run(document, {runOnly: {type: "tag",
            values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}});
        return result.violations.map(v => `${v.id}: ${v.help} -> ${v.nodes.map(n => n.target.join(" ")).join(", ")}`);
    }""")


def test_every_console_page_passes_axe(console, browser):
    base, url = console
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` (the Makefile's test target does)")
    insert_request(url, "conv-emergency", "CL-AXE111", kind="handoff")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    found = {}
    for path in PAGES[:1]:
        page.goto(base + path)
        found[path] = axe_violations(page)
    page.fill("input[name=username]", "ada")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/staff/")
    conversation = page.locator("table.list a").first.get_attribute("href")
    request = None
    for path in PAGES[1:] + [conversation, conversation + "?details=1"]:
        page.goto(base + path)
        found[path] = axe_violations(page)
        if path == "/staff/requests":
            request = page.locator("table.list a", has_text="CL-").first.get_attribute("href")
    page.goto(base + request)
    found[request] = axe_violations(page)
    context.close()
    assert {path: v for path, v in found.items() if v} == {}

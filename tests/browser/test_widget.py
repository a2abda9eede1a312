"""The website widget in a real headless Chromium (Debian's), against the running assistant.

Opens the demo page, asks a question, sees the guide's answer, clicks a button,
reloads and sees the history, sends hostile HTML and sees it as text, uses it with
the keyboard only on a phone-sized screen, embeds the snippet on another site, and
runs axe-core (from node_modules) for WCAG 2.x A/AA problems. Screenshots go to
reports/screenshots/.
"""

from __future__ import annotations

import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.channels.stack import shared_stack
from tests.support import trained_model

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "reports" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
XSS = "<img src=x onerror=alert(1)>"
ANSWER_TIMEOUT = 60_000  # ms
# Function strings: the demo page's CSP forbids eval, which Playwright needs for bare expressions.
CONNECTED = "() => document.querySelector('.clw-status').textContent === ''"


@pytest.fixture(scope="module")
def channels(request):
    model = trained_model("browser tests need a trained model")
    for needed, how in [(CHROMIUM, "apt-get install -y chromium"), (AXE, "npm ci")]:
        if not needed.exists():
            pytest.fail(f"{needed} is missing: run `{how}` (the Makefile's test target does)")
    return shared_stack(request.config, model)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page_errors():
    return []


def open_page(browser, url, errors, **context_options):
    context = browser.new_context(**context_options)
    page = context.new_page()
    page.set_default_timeout(ANSWER_TIMEOUT)
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    page.on("dialog", lambda dialog: (errors.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    page.goto(url)
    return context, page


def axe_violations(page):
    page.evaluate(AXE.read_text(encoding="utf-8"))
    return page.evaluate("""async () => {
        const result = await axe.run(document, {runOnly: {type: "tag",
            values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}});
        return result.violations.map(v => `${v.id}: ${v.help} -> ${v.nodes.map(n => n.target.join(" ")).join(", ")}`);
    }""")


def watch_typing(page):
    """Record whether the typing indicator is ever shown (it may be brief)."""
    page.evaluate("""() => {
        window.__typingSeen = false;
        const typing = document.querySelector(".clw-typing");
        new MutationObserver(() => { if (!typing.hidden) window.__typingSeen = true; })
            .observe(typing, {attributes: true, attributeFilter: ["hidden"]});
    }""")


def ask(page, text):
    bots = page.locator(".clw-bot").count()
    page.get_by_label("Your message").fill(text)
    page.get_by_role("button", name="Send").click()
    page.wait_for_function("n => document.querySelectorAll('.clw-bot').length > n", arg=bots)


def test_conversation_history_and_escaping_on_the_demo_page(channels, browser, page_errors):
    context, page = open_page(browser, channels.web_url + "/", page_errors, viewport={"width": 1280, "height": 900})
    try:
        log = page.get_by_role("log")
        assert log.get_attribute("aria-live") == "polite"
        page.wait_for_function(CONNECTED)  # connected
        assert axe_violations(page) == []

        watch_typing(page)
        ask(page, "what types are there?")
        answer = page.locator(".clw-bot", has_text="several types of calcified lesions")
        answer.wait_for()
        assert page.evaluate("() => window.__typingSeen") is True
        assert page.locator(".clw-typing").is_hidden()
        assert log.locator(".clw-bot", has_text="several types").count() == 1  # inside the live region

        answer.get_by_role("button", name="Brain Calcifications").click()
        page.locator(".clw-user", has_text="Brain Calcifications").wait_for()
        page.locator(".clw-bot", has_text="Calcifications can occur in the brain").wait_for()
        assert page.locator(".clw-user", has_text="ask_followup").count() == 0  # the title, not the payload

        ask(page, XSS)
        mine = page.locator(".clw-user .clw-bubble").last
        assert mine.text_content() == XSS
        assert page.locator(".clw img").count() == 0

        page.reload()
        page.locator(".clw-bot", has_text="Calcifications can occur in the brain").wait_for()
        users = page.locator(".clw-user .clw-bubble").all_text_contents()
        assert users == ["what types are there?", "Brain Calcifications", XSS]
        assert page.locator(".clw img").count() == 0
        page.wait_for_function(CONNECTED)

        # Suggestions the conversation has moved past are disabled and say so; the latest work.
        restored = page.locator(".clw-bot", has_text="Calcifications can occur in the brain")
        assert restored.get_by_role("button", name="Treatment options").is_disabled()
        assert restored.locator(".clw-choices").get_attribute("aria-label") == "Earlier suggestions, no longer available"
        latest = page.locator(".clw-choices:not(.clw-stale) .clw-choice").first
        title = latest.inner_text()
        bots = page.locator(".clw-bot").count()
        latest.click()
        # the button's title as the patient's message (exactly: "Types" is also in "what types are there?")
        page.locator(".clw-user .clw-bubble", has_text=re.compile(rf"^{re.escape(title)}$")).wait_for()
        page.wait_for_function("n => document.querySelectorAll('.clw-bot').length > n", arg=bots)
        assert page.locator(".clw-choices:not(.clw-stale)").count() <= 1
        assert axe_violations(page) == []
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "widget-desktop.png"), full_page=True)
        assert page_errors == []
    finally:
        context.close()


def test_keyboard_only_on_a_phone(channels, browser, page_errors):
    context, page = open_page(browser, channels.web_url + "/", page_errors, viewport={"width": 390, "height": 844},
                              is_mobile=True, has_touch=True, device_scale_factor=2)
    try:
        page.wait_for_function(CONNECTED)
        # Tab from the top of the page to the message field, then type and press Enter.
        for _ in range(10):
            page.keyboard.press("Tab")
            if page.evaluate("() => document.activeElement.classList.contains('clw-input')"):
                break
        assert page.evaluate("() => document.activeElement.classList.contains('clw-input')")
        outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
        assert outline != "none", "the focused field shows no focus ring"
        page.keyboard.type("what types are there?")
        page.keyboard.press("Enter")
        answer = page.locator(".clw-bot", has_text="several types of calcified lesions")
        answer.wait_for()
        assert page.evaluate("() => document.activeElement.classList.contains('clw-input')")

        # Shift+Tab back into the suggested replies and pick one with Enter.
        for _ in range(12):
            page.keyboard.press("Shift+Tab")
            if page.evaluate("() => document.activeElement.textContent") == "Brain Calcifications":
                break
        assert page.evaluate("() => document.activeElement.textContent") == "Brain Calcifications"
        assert page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle") != "none"
        page.keyboard.press("Enter")
        page.locator(".clw-bot", has_text="Calcifications can occur in the brain").wait_for()

        width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"the page scrolls sideways on a phone: {width}"
        box = page.locator(".clw-panel").bounding_box()
        assert box["width"] <= 390 and box["x"] >= 0
        assert axe_violations(page) == []
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "widget-phone.png"), full_page=True)
        assert page_errors == []
    finally:
        context.close()


class OtherSite:
    """Another origin on loopback (127.0.0.1 instead of localhost) serving one page.

    Loopback, because Chromium blocks a public page from loading loopback resources
    (Private Network Access); a real clinic site and assistant are both public.
    """

    def __init__(self, body: bytes) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_snippet_embedded_on_another_site(channels, browser, page_errors):
    """A clinic page on another origin with only the snippet: floating button, CORS history, Escape."""
    snippet = (f'<script src="{channels.web_url}/widget.js" data-socket-url="{channels.rasa_url}" '
               'data-title="Clinic assistant" defer></script>')
    page_html = ("<!doctype html><html lang='en'><head><title>Clinic</title><link rel='icon' href='data:,'></head>"
                 f"<body><main><h1>Our clinic</h1><p>Welcome.</p></main>{snippet}</body></html>").encode()
    site = OtherSite(page_html)
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    page = context.new_page()
    page.set_default_timeout(ANSWER_TIMEOUT)
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    try:
        page.goto(site.url)
        launcher = page.get_by_role("button", name=re.compile("Chat with the Clinic assistant"))
        assert launcher.get_attribute("aria-expanded") == "false"
        launcher.click()
        assert launcher.get_attribute("aria-expanded") == "true"
        assert page.evaluate("() => document.activeElement.classList.contains('clw-input')")
        page.wait_for_function(CONNECTED)
        ask(page, "what types are there?")
        page.locator(".clw-bot", has_text="several types of calcified lesions").wait_for()
        assert axe_violations(page) == []
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "widget-embedded.png"))
        page.keyboard.press("Escape")
        assert page.locator(".clw-panel").is_hidden()
        assert page.evaluate("() => document.activeElement.classList.contains('clw-launcher')")

        page.reload()  # the conversation comes back on the other site too (cross-origin history)
        page.get_by_role("button", name=re.compile("Chat with the Clinic assistant")).click()
        page.locator(".clw-user", has_text="what types are there?").wait_for()
        assert page_errors == []
    finally:
        context.close()
        site.stop()


class TcpProxy:
    """A loopback TCP proxy in front of Rasa that the test can cut, like a dropped mobile connection."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.accepting = True
        self.open: list = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.accepting:
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self.lock:
                self.open += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        """Drop every connection and refuse new ones until ``restore``."""
        self.accepting = False
        with self.lock:
            for conn in self.open:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                conn.close()
            self.open = []

    def restore(self) -> None:
        self.accepting = True

    def stop(self) -> None:
        self.cut()
        self.listener.close()


def test_a_dropped_connection_reconnects_and_keeps_the_conversation(channels, browser, page_errors):
    proxy = TcpProxy(int(channels.rasa_url.rsplit(":", 1)[1]))
    snippet = (f'<script src="{channels.web_url}/widget.js" data-socket-url="{proxy.url}" '
               'data-target="#chat" defer></script>')
    site = OtherSite(("<!doctype html><html lang='en'><head><title>Clinic</title><link rel='icon' href='data:,'>"
                      f"</head><body><main><h1>Chat</h1><div id='chat'></div></main>{snippet}</body></html>").encode())
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    page = context.new_page()
    page.set_default_timeout(ANSWER_TIMEOUT)
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    try:
        page.goto(site.url)
        page.wait_for_function(CONNECTED)
        ask(page, "what types are there?")
        page.locator(".clw-bot", has_text="several types of calcified lesions").wait_for()

        proxy.cut()
        page.wait_for_function("() => /Connection lost|Retrying/.test(document.querySelector('.clw-status').textContent)")
        page.get_by_label("Your message").fill("what about the brain kind?")
        page.get_by_role("button", name="Send").click()  # kept until the connection is back
        proxy.restore()
        page.locator(".clw-bot", has_text="Calcifications can occur in the brain").wait_for()
        page.wait_for_function(CONNECTED)
        users = page.locator(".clw-user .clw-bubble").all_text_contents()
        assert users == ["what types are there?", "what about the brain kind?"]
        assert page.locator(".clw-bot", has_text="several types of calcified lesions").count() == 1
        assert page_errors == []
    finally:
        context.close()
        site.stop()
        proxy.stop()


FAKE_SOCKET_IO = """
window.__sent = []; window.__replies = [];
window.io = function () {
  var handlers = {};
  function fire(event, data) { (handlers[event] || []).forEach(function (f) { f(data); }); }
  var socket = {
    on: function (event, f) { (handlers[event] = handlers[event] || []).push(f); return socket; },
    emit: function (event, data) {
      if (event === "session_request") {
        // As the server does: the conversation id is derived from the browser's token.
        crypto.subtle.digest("SHA-256", new TextEncoder().encode("clinic-widget-session:" + data.token))
          .then(function (digest) {
            fire("session_confirm", Array.from(new Uint8Array(digest))
              .map(function (b) { return b.toString(16).padStart(2, "0"); }).join(""));
          });
      }
      if (event === "user_uttered") {
        window.__sent.push(data);
        (window.__replies.shift() || []).forEach(function (m) { setTimeout(function () { fire("bot_uttered", m); }, 10); });
      }
    }
  };
  setTimeout(function () { fire("connect"); }, 0);
  return socket;
};
"""

HOSTILE_BOT = {
    "text": "**Bold** words, the [guide](https://example.org/guide?a=1&b=2), [bad](javascript:alert(1)), "
            "[worse](data:text/html,hi) and https://example.com/x. <img src=x onerror=alert(1)>"
            "<script>alert(2)</script>\nsecond line",
    "quick_replies": [{"content_type": "text", "title": "<b>not bold</b>", "payload": "/ask_types"}],
}


def test_bot_markdown_renders_safely(channels, browser, page_errors):
    """Rendering of bot texts, with a stand-in socket.io served in place of the real one."""
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    context.route("**/static/vendor/socket.io.min.js",
                  lambda route: route.fulfill(status=200, content_type="application/javascript", body=FAKE_SOCKET_IO))
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    page.on("dialog", lambda dialog: (page_errors.append(dialog.message), dialog.dismiss()))
    try:
        page.goto(channels.web_url + "/")
        page.wait_for_function(CONNECTED)
        page.evaluate("reply => { window.__replies.push([reply]); }", HOSTILE_BOT)
        ask(page, "hello")
        bubble = page.locator(".clw-bot .clw-bubble").last
        assert bubble.locator("strong").all_text_contents() == ["Bold"]
        links = bubble.locator("a").evaluate_all("as => as.map(a => [a.getAttribute('href'), a.textContent, a.rel])")
        assert links == [
            ["https://example.org/guide?a=1&b=2", "guide (opens in a new tab)", "noopener noreferrer"],
            ["https://example.com/x", "https://example.com/x (opens in a new tab)", "noopener noreferrer"],
        ]
        text = bubble.text_content()
        assert "[bad](javascript:alert(1))" in text and "[worse](data:text/html,hi)" in text
        assert "https://example.com/x (opens in a new tab). <img src=x onerror=alert(1)><script>alert(2)</script>" in text
        assert bubble.locator("br").count() == 1 and text.endswith("second line")
        assert page.locator(".clw img, .clw script").count() == 0

        choice = page.get_by_role("button", name="<b>not bold</b>")
        choice.click()
        assert page.locator(".clw-user .clw-bubble").last.text_content() == "<b>not bold</b>"
        assert page.evaluate("() => window.__sent.map(m => m.message)") == ["hello", "/ask_types"]
        assert page_errors == []
    finally:
        context.close()


def test_emergency_advice_stands_out_with_a_number_to_tap(channels, browser, page_errors):
    context, page = open_page(browser, channels.web_url + "/", page_errors, viewport={"width": 390, "height": 844},
                              is_mobile=True, has_touch=True, device_scale_factor=2)
    try:
        page.wait_for_function(CONNECTED)
        page.get_by_label("Your message").fill("my dad has crushing chest pain and cant breathe")
        page.get_by_role("button", name="Send").click()
        alert = page.locator(".clw-emergency")
        alert.wait_for()
        assert alert.get_attribute("role") == "alert"  # announced at once, not politely
        call = alert.get_by_role("link", name="Call 112 now")
        assert call.get_attribute("href") == "tel:112"
        # before anything else of this turn (the disclaimer of a new chat comes after it)
        first_reply = page.evaluate(
            "() => document.querySelector('.clw-user ~ .clw-bot').classList.contains('clw-emergency')")
        assert first_reply is True
        colours = page.evaluate("""() => { const s = getComputedStyle(document.querySelector('.clw-emergency .clw-bubble'));
                                           return [s.backgroundColor, s.color]; }""")
        assert colours == ["rgb(165, 14, 31)", "rgb(255, 255, 255)"]
        assert axe_violations(page) == []
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "widget-emergency.png"), full_page=False)
        page.reload()  # the history shows it the same way
        page.locator(".clw-emergency a[href='tel:112']").wait_for()
        assert page_errors == []
    finally:
        context.close()


def test_a_long_reply_on_a_phone_shows_its_first_line_and_the_page_does_not_grow(channels, browser, page_errors):
    context, page = open_page(browser, channels.web_url + "/", page_errors, viewport={"width": 390, "height": 844},
                              is_mobile=True, has_touch=True, device_scale_factor=2)
    try:
        page.wait_for_function(CONNECTED)
        height = page.evaluate("() => document.documentElement.scrollHeight")
        for question in ("what types are there?", "how do I prepare for my appointment?", "who treats it?"):
            ask(page, question)
            page.wait_for_timeout(1500)  # the rest of the reply's messages arrive
            first = page.locator(".clw-user", has_text=question).locator("xpath=following-sibling::div[1]")
            box, log = first.bounding_box(), page.locator(".clw-log").bounding_box()
            # the reply's first line is inside the chat's visible area
            assert log["y"] - 1 <= box["y"] <= log["y"] + log["height"] - 20, (question, box, log)
        assert page.evaluate("() => document.documentElement.scrollHeight") == height  # no blank space added
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "widget-long-reply-phone.png"), full_page=False)
        assert page_errors == []
    finally:
        context.close()


def test_a_first_visit_opens_with_a_greeting_and_questions_to_start(channels, browser, page_errors):
    context, page = open_page(browser, channels.web_url + "/", page_errors, viewport={"width": 1280, "height": 800})
    try:
        page.wait_for_function(CONNECTED)
        welcome = page.locator(".clw-welcome")
        assert "not a diagnosis" in welcome.inner_text() and "call 112" in welcome.inner_text()
        suggestions = welcome.get_by_role("group", name="Suggested questions").get_by_role("button")
        assert suggestions.all_inner_texts() == ["What are calcified lesions?", "What types are there?",
                                                 "How do I prepare for my appointment?", "Who treats them?"]
        assert axe_violations(page) == []
        suggestions.nth(1).click()
        page.locator(".clw-user", has_text="What types are there?").wait_for()
        page.locator(".clw-bot", has_text="several types of calcified lesions").wait_for()
        assert welcome.locator(".clw-choice").nth(0).is_disabled()  # the conversation has moved on
        page.reload()  # a returning visitor gets the conversation, not the greeting again
        page.locator(".clw-bot", has_text="several types of calcified lesions").wait_for()
        assert page.locator(".clw-welcome").count() == 0
        assert page_errors == []
    finally:
        context.close()

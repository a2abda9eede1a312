/* The clinic assistant's chat widget. Embed with:
 *   <script src="https://ASSISTANT-HOST/widget.js" defer></script>
 * Optional attributes (docs/channels.md lists them with the web app's defaults):
 * data-socket-url (Rasa's public URL), data-target (CSS selector of an element to fill;
 * without it a chat button opens a panel), data-title, data-greeting, data-suggestions
 * ("|"-separated), data-emergency-number, data-color (#rrggbb, dark enough for white text).
 *
 * Every text from the bot or the visitor is put into the page with textContent or text
 * nodes, never as HTML. The conversation is restored from the server on reload.
 */
(function () {
  "use strict";

  var DEFAULTS = __WIDGET_DEFAULTS__;
  var script = document.currentScript;
  if (!script || window.__clinicAssistantLoaded) return;
  window.__clinicAssistantLoaded = true;

  var base = new URL(".", script.src).href; // the web app serving this script, with a trailing slash
  var data = script.dataset || {};
  var config = {
    socketUrl: data.socketUrl || DEFAULTS.socketUrl,
    socketPath: data.socketPath || DEFAULTS.socketPath,
    target: data.target || "",
    title: data.title || DEFAULTS.title || "Clinic assistant",
    greeting: data.greeting || DEFAULTS.greeting || "",
    color: data.color || DEFAULTS.color || "",
    // The first-visit greeting's suggested questions ("|"-separated in data-suggestions).
    suggestions: data.suggestions ? data.suggestions.split("|") : (DEFAULTS.suggestions || []),
    emergencyNumber: data.emergencyNumber || DEFAULTS.emergencyNumber || "your local emergency number"
  };
  var STORAGE_KEY = "clinicAssistant.token";
  var TYPING_TIMEOUT_MS = 30000;
  var uid = 0;

  // ---- small DOM helpers ------------------------------------------------------------------
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function nextId(name) { uid += 1; return "clw-" + name + "-" + uid; }
  function button(className, text, onClick) {
    var node = el("button", className, text);
    node.type = "button";
    node.addEventListener("click", onClick);
    return node;
  }

  // ---- a clinic's own colour, used only if white text on it (and it as text on the answers'
  // grey) reaches WCAG AA's 4.5:1; webapp/settings.py checks WIDGET_COLOR the same way --------
  function rgb(hex) { var n = parseInt(hex.slice(1), 16); return [n >> 16, (n >> 8) & 255, n & 255]; }
  function luminance(hex) {
    return rgb(hex).map(function (v) {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    }).reduce(function (sum, v, i) { return sum + v * [0.2126, 0.7152, 0.0722][i]; }, 0);
  }
  function usableColour(hex) {
    return /^#[0-9a-fA-F]{6}$/.test(hex) && (luminance("#eef1f4") + 0.05) / (luminance(hex) + 0.05) >= 4.5;
  }
  function darker(hex) {
    return "#" + rgb(hex).map(function (v) { return ("0" + Math.round(v * 0.75).toString(16)).slice(-2); }).join("");
  }

  // ---- times: "14:05" today, "3 Dec, 14:05" before ----------------------------------------
  function shortTime(seconds) {
    var when = new Date(seconds * 1000);
    var time = when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    if (when.toDateString() === new Date().toDateString()) return time;
    return when.toLocaleDateString([], { day: "numeric", month: "short" }) + ", " + time;
  }
  function secondsOf(value) {
    return typeof value === "number" && isFinite(value) && value > 0 ? value : Date.now() / 1000;
  }

  function loadStyles() {
    if (document.querySelector('link[data-clw-styles]')) return;
    if (document.querySelector('link[href$="/widget.css"]')) return;
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = base + "widget.css";
    link.setAttribute("data-clw-styles", "");
    document.head.appendChild(link);
  }

  function loadSocketIo(done) {
    if (window.io) { done(); return; }
    var tag = document.createElement("script");
    tag.src = base + "static/vendor/socket.io.min.js";
    tag.onload = function () { done(); };
    tag.onerror = function () { done(new Error("socket.io-client could not be loaded")); };
    document.head.appendChild(tag);
  }

  // ---- the visitor's secret token: random, kept in this browser only ----------------------
  function newToken() {
    var bytes = new Uint8Array(32);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function getToken() {
    var token = null;
    try { token = window.localStorage.getItem(STORAGE_KEY); } catch (e) { token = null; }
    if (!token || !/^[A-Za-z0-9_-]{32,128}$/.test(token)) {
      token = newToken();
      try { window.localStorage.setItem(STORAGE_KEY, token); } catch (e) { /* private mode: this page only */ }
    }
    return token;
  }

  // ---- simple markdown: **bold**, [label](https://...), bare links, line breaks -----------
  var INLINE = /\*\*([^*\n]+?)\*\*|\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)|(https?:\/\/[^\s<>"']+)/gi;

  function safeHref(href) {
    try {
      var url = new URL(href);
      return (url.protocol === "http:" || url.protocol === "https:") ? url.href : null;
    } catch (e) { return null; }
  }

  function appendLink(parent, href, label) {
    var safe = safeHref(href);
    if (!safe) { parent.appendChild(document.createTextNode(label)); return; }
    var a = el("a", "clw-link", label);
    a.href = safe;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    a.appendChild(el("span", "clw-sr", " (opens in a new tab)"));
    parent.appendChild(a);
  }

  function appendInline(parent, line) {
    var last = 0, match;
    INLINE.lastIndex = 0;
    while ((match = INLINE.exec(line)) !== null) {
      if (match.index > last) parent.appendChild(document.createTextNode(line.slice(last, match.index)));
      if (match[1] !== undefined) {
        parent.appendChild(el("strong", "", match[1]));
      } else if (match[2] !== undefined) {
        appendLink(parent, match[3], match[2]);
      } else {
        var url = match[4], trail = "";
        var cut = /[.,;:!?)\]]+$/.exec(url);
        if (cut) { trail = cut[0]; url = url.slice(0, -trail.length); }
        appendLink(parent, url, url);
        if (trail) parent.appendChild(document.createTextNode(trail));
      }
      last = INLINE.lastIndex;
    }
    if (last < line.length) parent.appendChild(document.createTextNode(line.slice(last)));
  }

  function renderRich(parent, text) {
    String(text).split("\n").forEach(function (line, index) {
      if (index > 0) parent.appendChild(document.createElement("br"));
      appendInline(parent, line);
    });
  }

  // ---- the widget -------------------------------------------------------------------------
  function Widget(mount, floating) {
    var self = this;
    this.token = getToken();
    this.sessionId = null;
    this.socket = null;
    this.ready = false;      // the server confirmed our session on the current connection
    this.everConnected = false;
    this.queue = [];         // messages typed before the connection was ready
    this.shown = 0;          // messages in the log, to notice ones missed while offline
    this.typingTimer = null;
    this.transcript = [];    // what "Save a copy" writes: {who, text, time}
    this.lastStamp = "";     // who and minute of the last time shown, to show each once
    this.unread = 0;         // replies that arrived while the floating panel was closed
    this.restoring = false;  // showing the history: nothing is new

    var root = el("section", "clw" + (floating ? " clw-floating" : " clw-inline"));
    root.setAttribute("aria-label", "Chat with the " + config.title);
    if (config.color && usableColour(config.color)) {
      root.style.setProperty("--clw-primary", config.color);
      root.style.setProperty("--clw-primary-dark", darker(config.color));
    } else if (config.color && window.console) {
      window.console.warn("clinic assistant: data-color " + config.color + " ignored: white text on it would be hard to read");
    }
    var panelId = nextId("panel"), inputId = nextId("input"), titleId = nextId("title");

    if (floating) {
      this.launcher = button("clw-launcher", "", function () { self.setOpen(!self.open); });
      this.launcher.appendChild(el("span", "", "Chat with the " + config.title));
      this.badge = el("span", "clw-badge");
      this.badge.hidden = true;
      this.launcher.appendChild(this.badge);
      this.launcher.setAttribute("aria-expanded", "false");
      this.launcher.setAttribute("aria-controls", panelId);
      root.appendChild(this.launcher);
      // said politely when a reply arrives while the panel is closed (its log is hidden then)
      this.notice = el("p", "clw-sr");
      this.notice.setAttribute("role", "status");
      root.appendChild(this.notice);
    }

    var panel = el("div", "clw-panel");
    panel.id = panelId;
    this.panel = panel;
    var header = el("div", "clw-header");
    var heading = el("h2", "clw-title", config.title);
    heading.id = titleId;
    header.appendChild(heading);
    header.appendChild(el("p", "clw-subtitle",
      "General information from the clinic's guide, not a diagnosis. In an emergency, call " +
      config.emergencyNumber + "."));
    var tools = el("div", "clw-tools");
    this.saveButton = button("clw-tool", "Save a copy", function () { self.saveCopy(); });
    this.restartButton = button("clw-tool", "Start over", function () { self.askStartOver(); });
    tools.appendChild(this.saveButton);
    tools.appendChild(this.restartButton);
    header.appendChild(tools);
    if (floating) {
      var close = button("clw-close", "", function () { self.setOpen(false); self.launcher.focus(); });
      close.setAttribute("aria-label", "Close the chat");
      close.appendChild(el("span", "", "\u00d7")).setAttribute("aria-hidden", "true");
      header.appendChild(close);
    }
    panel.appendChild(header);
    this.confirm = this.startOverQuestion();
    panel.appendChild(this.confirm);

    this.log = el("div", "clw-log");
    this.log.setAttribute("role", "log");
    this.log.setAttribute("aria-live", "polite");
    this.log.setAttribute("aria-relevant", "additions");
    this.log.setAttribute("aria-labelledby", titleId);
    this.log.tabIndex = 0; // scrollable, so keyboard users can scroll it
    panel.appendChild(this.log);

    this.typing = el("div", "clw-typing");
    this.typing.setAttribute("role", "status");
    this.typing.hidden = true;
    var dots = el("span", "clw-dots");
    dots.setAttribute("aria-hidden", "true");
    dots.appendChild(el("span")); dots.appendChild(el("span")); dots.appendChild(el("span"));
    this.typing.appendChild(dots);
    this.typing.appendChild(el("span", "clw-typing-text", "The assistant is typing\u2026"));
    panel.appendChild(this.typing);

    this.status = el("p", "clw-status", "Connecting\u2026");
    this.status.setAttribute("role", "status");
    panel.appendChild(this.status);

    var form = el("form", "clw-form");
    form.noValidate = true;
    var label = el("label", "clw-label", "Your message");
    label.htmlFor = inputId;
    this.input = el("input", "clw-input");
    this.input.id = inputId;
    this.input.type = "text";
    this.input.name = "message";
    this.input.autocomplete = "off";
    this.input.maxLength = 1000;
    this.input.placeholder = "Type your question";
    var send = el("button", "clw-send", "Send");
    send.type = "submit";
    var row = el("div", "clw-row");
    row.appendChild(this.input);
    row.appendChild(send);
    form.appendChild(label);
    form.appendChild(row);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = self.input.value.trim();
      if (!text) { self.input.focus(); return; }
      self.input.value = "";
      self.send(text, text);
      self.input.focus();
    });
    panel.appendChild(form);

    if (floating) {
      panel.hidden = true;
      panel.setAttribute("role", "dialog");
      panel.setAttribute("aria-labelledby", titleId);
      panel.addEventListener("keydown", function (event) {
        if (event.key === "Escape") { self.setOpen(false); self.launcher.focus(); }
      });
    }
    root.appendChild(panel);
    mount.appendChild(root);
    this.open = !floating;
  }

  Widget.prototype.setOpen = function (open) {
    this.open = open;
    this.panel.hidden = !open;
    if (this.launcher) this.launcher.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) { this.setUnread(0); this.scrollDown(); this.input.focus(); }
  };

  // The count on the chat button of replies that came while the panel was closed.
  Widget.prototype.setUnread = function (count) {
    if (!this.badge) return;
    this.unread = count;
    this.badge.hidden = count === 0;
    this.badge.textContent = "";
    if (!count) return;
    // The button's name is its text: "Chat with the ..., 2 new messages" (the number visible).
    var words = count === 1 ? " new message" : " new messages";
    this.badge.appendChild(el("span", "clw-sr", ", "));
    this.badge.appendChild(document.createTextNode(String(count)));
    this.badge.appendChild(el("span", "clw-sr", words));
    this.notice.textContent = config.title + ": " + count + words + ".";
  };

  // A small time under a message, once per sender and minute.
  Widget.prototype.stamp = function (item, who, seconds) {
    var label = shortTime(seconds);
    this.transcript.push({ who: who, text: item.__text || "", time: seconds });
    if (who + label === this.lastStamp) return;
    this.lastStamp = who + label;
    var node = el("time", "clw-time", label);
    node.dateTime = new Date(seconds * 1000).toISOString();
    item.appendChild(node);
  };

  Widget.prototype.setStatus = function (text) { this.status.textContent = text; };

  // Scroll to the newest message, but never past the first line of the assistant's reply
  // to the patient's last message: on a phone a long answer with nine buttons would
  // otherwise show only its buttons.
  Widget.prototype.scrollDown = function () {
    var log = this.log;
    var start = this.replyStart;
    if (start && start.parentNode === log) {
      var top = start.getBoundingClientRect().top - log.getBoundingClientRect().top + log.scrollTop - 8;
      log.scrollTop = Math.min(log.scrollHeight, Math.max(0, Math.min(top, log.scrollHeight - log.clientHeight)));
      return;
    }
    log.scrollTop = log.scrollHeight;
  };

  // Once the patient has said something, earlier suggestions are stale: a "Yes, send it"
  // clicked after the booking was sent would start something unrelated. They stay visible,
  // disabled, and say so to screen readers.
  Widget.prototype.retireChoices = function () {
    var groups = this.log.querySelectorAll(".clw-choices:not(.clw-stale)");
    Array.prototype.forEach.call(groups, function (group) {
      group.classList.add("clw-stale");
      group.setAttribute("aria-label", "Earlier suggestions, no longer available");
      Array.prototype.forEach.call(group.querySelectorAll("button"), function (button) { button.disabled = true; });
    });
  };

  Widget.prototype.addUser = function (text, time) {
    this.retireChoices();
    this.replyStart = null;
    var item = el("div", "clw-msg clw-user");
    item.appendChild(el("span", "clw-sr", "You said: "));
    item.appendChild(el("div", "clw-bubble", text));
    item.__text = text;
    this.stamp(item, "You", secondsOf(time));
    this.log.appendChild(item);
    this.shown += 1;
    this.scrollDown();
  };

  // The red-flag advice: an alert that stands out, read out at once, with a tap-to-call link.
  Widget.prototype.addEmergency = function (message) {
    var item = el("div", "clw-msg clw-bot clw-emergency");
    item.setAttribute("role", "alert");
    var bubble = el("div", "clw-bubble");
    bubble.appendChild(el("strong", "clw-emergency-title", "Emergency"));
    var body = el("p", "clw-emergency-text");
    renderRich(body, message.text);
    bubble.appendChild(body);
    if (typeof message.call === "string" && /^\+?\d{2,15}$/.test(message.call)) {
      var call = el("a", "clw-call", "Call " + message.call + " now");
      call.href = "tel:" + message.call;
      bubble.appendChild(call);
    }
    item.appendChild(bubble);
    item.__text = "EMERGENCY: " + message.text;
    this.stamp(item, "Assistant", secondsOf(message.time));
    this.log.appendChild(item);
    if (!this.replyStart) this.replyStart = item;
    this.shown += 1;
    this.arrived();
    this.scrollDown();
  };

  // A reply while the floating panel is closed: counted on the chat button.
  Widget.prototype.arrived = function () {
    if (!this.open && !this.restoring) this.setUnread(this.unread + 1);
  };

  Widget.prototype.addBot = function (message) {
    var self = this;
    if (message.kind === "emergency" && message.text) { this.addEmergency(message); return; }
    var staff = message.author === "staff" && typeof message.staff === "string";
    var item = el("div", "clw-msg clw-bot" + (staff ? " clw-staff" : ""));
    if (staff) {
      // A person from the clinic writes (live take-over): say who, visibly and to screen readers.
      item.appendChild(el("span", "clw-author", message.staff + " \u00b7 clinic team"));
      item.appendChild(el("span", "clw-sr", " said: "));
    } else {
      item.appendChild(el("span", "clw-sr", "Assistant said: "));
    }
    if (message.text) {
      var bubble = el("div", "clw-bubble");
      renderRich(bubble, message.text);
      item.appendChild(bubble);
    }
    var buttons = message.buttons || message.quick_replies || [];
    if (buttons.length) {
      var group = el("div", "clw-choices");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", "Suggested replies");
      buttons.forEach(function (button) {
        if (typeof button.title !== "string" || typeof button.payload !== "string") return;
        var choice = el("button", "clw-choice", button.title);
        choice.type = "button";
        choice.addEventListener("click", function () {
          self.send(button.payload, button.title);
          self.input.focus();
        });
        group.appendChild(choice);
      });
      item.appendChild(group);
    }
    if (message.attachment && message.attachment.payload && message.attachment.payload.src) {
      var p = el("p", "clw-bubble");
      appendLink(p, String(message.attachment.payload.src), "Open the image");
      item.appendChild(p);
    }
    if (!item.querySelector(".clw-bubble, .clw-choices")) return;
    if (message.text && !staff) item.appendChild(this.rating(message.text));
    var titles = buttons.map(function (b) { return b.title; }).filter(function (t) { return typeof t === "string"; });
    item.__text = (message.text || "") + (titles.length ? "\n  Choices: " + titles.join(" | ") : "");
    this.stamp(item, staff ? message.staff + " (clinic team)" : "Assistant", secondsOf(message.time));
    this.log.appendChild(item);
    if (!this.replyStart) this.replyStart = item;
    this.shown += 1;
    this.arrived();
    this.scrollDown();
  };

  // Thumbs up / down on an answer, stored for the clinic's staff (POST /widget/feedback).
  Widget.prototype.rating = function (answer) {
    var self = this;
    var group = el("div", "clw-rate");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Was this answer helpful?");
    var thanks = el("span", "clw-rate-thanks");
    thanks.setAttribute("aria-live", "polite");
    // Words, not emoji: not every device (or screen reader) has an emoji font.
    var buttons = [["up", "Helpful"], ["down", "Not helpful"]].map(function (spec) {
      var button = el("button", "clw-rate-btn", spec[1]);
      button.type = "button";
      button.setAttribute("aria-pressed", "false");
      button.addEventListener("click", function () {
        fetch(base + "widget/feedback", {
          method: "POST", headers: { "Content-Type": "application/json" }, credentials: "omit",
          body: JSON.stringify({ token: self.token, answer: answer, rating: spec[0] })
        }).then(function (response) {
          if (!response.ok) throw new Error("feedback " + response.status);
          buttons.forEach(function (other) { other.setAttribute("aria-pressed", String(other === button)); });
          thanks.textContent = spec[0] === "up" ? "Thanks for telling us." : "Thanks: the clinic's team will look at this answer.";
        }).catch(function () { thanks.textContent = "Your feedback could not be sent."; });
      });
      group.appendChild(button);
      return button;
    });
    group.appendChild(thanks);
    return group;
  };

  Widget.prototype.showHistory = function (messages) {
    var self = this;
    this.log.setAttribute("aria-busy", "true");
    this.log.textContent = "";
    this.shown = 0;
    this.transcript = [];
    this.lastStamp = "";
    this.restoring = true;
    messages.forEach(function (m) {
      if (m.sender === "user") self.addUser(m.text, m.time); else self.addBot(m);
    });
    this.restoring = false;
    this.log.setAttribute("aria-busy", "false");
    this.scrollDown();
  };

  Widget.prototype.setTyping = function (on) {
    var self = this;
    clearTimeout(this.typingTimer);
    this.typing.hidden = !on;
    if (on) this.typingTimer = setTimeout(function () { self.typing.hidden = true; }, TYPING_TIMEOUT_MS);
  };

  // A first visit: a greeting that says what this is (and is not), and a few questions to start.
  Widget.prototype.welcome = function () {
    var self = this;
    var item = el("div", "clw-msg clw-bot clw-welcome");
    item.appendChild(el("span", "clw-sr", "Assistant said: "));
    var greeting = config.greeting || "Hello! I answer questions from the clinic's patient guide on calcified " +
      "lesions. I give general information, not a diagnosis.";
    // The emergency sentence always follows, whatever a clinic writes as its greeting.
    item.appendChild(el("div", "clw-bubble", greeting + " In an emergency, call " + config.emergencyNumber +
      " now. What would you like to know?"));
    var questions = config.suggestions.filter(function (q) { return typeof q === "string" && q.trim(); }).slice(0, 4);
    if (questions.length) {
      var group = el("div", "clw-choices");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", "Suggested questions");
      questions.forEach(function (question) {
        var choice = el("button", "clw-choice", question.trim());
        choice.type = "button";
        choice.addEventListener("click", function () { self.send(question.trim(), question.trim()); self.input.focus(); });
        group.appendChild(choice);
      });
      item.appendChild(group);
    }
    this.log.appendChild(item);
  };

  // ---- start over: this browser forgets the conversation (the clinic keeps its copy) -------
  Widget.prototype.startOverQuestion = function () {
    var self = this;
    var box = el("div", "clw-confirm");
    box.hidden = true;
    box.setAttribute("role", "group");
    var text = el("p", "clw-confirm-text", "Start a new conversation? This browser will forget this one. " +
      "The clinic keeps its copy: to have that deleted too, choose \u201cDelete it at the clinic\u201d first.");
    text.id = nextId("confirm");
    box.setAttribute("aria-labelledby", text.id);
    box.appendChild(text);
    var row = el("div", "clw-confirm-row");
    row.appendChild(button("clw-choice clw-confirm-yes", "Yes, start over", function () { self.startOver(); }));
    row.appendChild(button("clw-choice", "Delete it at the clinic", function () {
      self.closeStartOver();
      self.send("delete my data", "Please delete my data");
      self.input.focus();
    }));
    row.appendChild(button("clw-choice", "Cancel", function () { self.closeStartOver(); self.restartButton.focus(); }));
    box.appendChild(row);
    return box;
  };

  Widget.prototype.askStartOver = function () {
    this.confirm.hidden = false;
    this.confirm.querySelector("button").focus();
  };

  Widget.prototype.closeStartOver = function () { this.confirm.hidden = true; };

  Widget.prototype.startOver = function () {
    this.closeStartOver();
    this.token = newToken();
    try { window.localStorage.setItem(STORAGE_KEY, this.token); } catch (e) { /* this page only */ }
    if (this.socket) { this.socket.off(); this.socket.disconnect(); this.socket = null; }
    clearTimeout(this.retryTimer);
    this.ready = false;
    this.everConnected = false;
    this.queue = [];
    this.sessionId = null;
    this.replyStart = null;
    this.showHistory([]);
    this.setTyping(false);
    this.start();
    this.setStatus("New conversation. Connecting\u2026");
    this.input.focus();
  };

  // ---- save a copy: the conversation as a text file, made in the browser --------------------
  Widget.prototype.saveCopy = function () {
    var now = new Date();
    var lines = ["Conversation with the " + config.title + ", saved " + now.toLocaleString(),
      "General information from the clinic's guide, not a diagnosis. In an emergency, call " +
      config.emergencyNumber + ".", ""];
    this.transcript.forEach(function (m) {
      lines.push("[" + new Date(m.time * 1000).toLocaleString() + "] " + m.who + ":");
      lines.push(String(m.text).replace(/\*\*([^*\n]+?)\*\*/g, "$1"), "");
    });
    var link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([lines.join("\r\n")], { type: "text/plain;charset=utf-8" }));
    link.download = "conversation-" + now.toISOString().slice(0, 10) + ".txt";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(link.href); }, 10000);
  };

  Widget.prototype.send = function (payload, shownText) {
    this.addUser(shownText);
    this.setTyping(true);
    if (this.ready) this.emit(payload); else this.queue.push({ payload: payload, title: shownText });
  };

  Widget.prototype.emit = function (payload) {
    this.socket.emit("user_uttered", { message: payload });
  };

  Widget.prototype.fetchHistory = function () {
    return fetch(base + "widget/history", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token: this.token }),
      credentials: "omit",
      cache: "no-store"
    }).then(function (response) {
      if (!response.ok) throw new Error("history: HTTP " + response.status);
      return response.json();
    });
  };

  Widget.prototype.start = function () {
    var self = this;
    this.setStatus("Connecting\u2026");
    this.fetchHistory().then(function (result) {
      self.sessionId = result.session_id;
      self.showHistory(result.messages || []);
      if (!(result.messages || []).length) self.welcome();
      if (result.history === "unavailable") self.setStatus("Earlier messages could not be loaded.");
      self.connect();
    }).catch(function () {
      self.setStatus("The assistant can't be reached right now. Retrying\u2026");
      self.retryTimer = setTimeout(function () { self.start(); }, 5000);
    });
  };

  Widget.prototype.connect = function () {
    var self = this;
    var socket = window.io(config.socketUrl, {
      path: config.socketPath,
      forceNew: true, // "Start over" opens a new connection for the new token
      transports: ["websocket"], // Rasa's socket.io server does not answer CORS polling requests
      reconnection: true,
      reconnectionDelayMax: 10000
    });
    this.socket = socket;
    socket.on("connect", function () {
      // The token proves this browser's conversation; the server derives the id from it.
      socket.emit("session_request", { token: self.token });
    });
    socket.on("session_confirm", function (confirmed) {
      var id = (confirmed && confirmed.session_id) || confirmed;
      if (id !== self.sessionId) return;
      var reconnected = self.everConnected;
      self.everConnected = true;
      self.ready = true;
      self.setStatus("");
      var flush = function () {
        while (self.queue.length) self.emit(self.queue.shift().payload);
      };
      if (!reconnected) { flush(); return; }
      // Back after a dropped connection: answers sent meanwhile are in the server's history.
      self.fetchHistory().then(function (result) {
        var messages = result.messages || [];
        if (messages.length > self.shown - self.queue.length) {
          self.showHistory(messages);
          self.queue.forEach(function (queued) { self.addUser(queued.title); });
        }
      }).catch(function () { /* keep what is shown */ }).then(flush);
    });
    socket.on("bot_uttered", function (message) {
      if (!message || typeof message !== "object") return;
      self.setTyping(false);
      self.addBot(message);
    });
    socket.on("disconnect", function () {
      self.ready = false;
      self.setStatus("Connection lost. Reconnecting\u2026");
    });
    socket.on("connect_error", function () {
      self.ready = false;
      self.setStatus("The assistant can't be reached right now. Retrying\u2026");
    });
  };

  function boot() {
    loadStyles();
    var mount = config.target ? document.querySelector(config.target) : null;
    var floating = !mount;
    if (floating) mount = document.body;
    var widget = new Widget(mount, floating);
    loadSocketIo(function (error) {
      if (error) { widget.setStatus("The chat could not be loaded. Please reload the page."); return; }
      widget.start();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();

/* Staff console, live parts: the inbox count in the navigation, new messages on an open
   conversation, and replies sent without reloading the page. Without this script every
   page still works (forms post and redirect); with it, nothing has to be reloaded. */
(function () {
  "use strict";

  function getJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; });
  }

  // --- the number of people waiting, in the navigation (and the inbox page's list) ---
  var badge = document.getElementById("inbox-count");
  var inboxList = document.querySelector("[data-inbox-count]");
  function refreshCount() {
    getJson("/staff/inbox/count").then(function (data) {
      if (!data || typeof data.waiting !== "number") return;
      if (badge) {
        badge.querySelector(".count-number").textContent = String(data.waiting);
        badge.hidden = data.waiting === 0;
      }
      // On the inbox itself a new arrival reloads the list (it holds no form to lose).
      if (inboxList && String(data.waiting) !== inboxList.getAttribute("data-inbox-count")) {
        window.location.reload();
      }
    }).catch(function () { /* the next round tries again */ });
  }
  setInterval(refreshCount, inboxList ? 3000 : 10000);

  // --- new messages on an open conversation's last page ---
  var list = document.querySelector("ol.transcript[data-live]");
  function addMessage(m) {
    if (document.getElementById("event-" + m.id)) return;
    var li = document.createElement("li");
    li.id = "event-" + m.id;
    li.className = "ev " + (m.who === "patient" ? "user" : "bot") + (m.who === "staff" ? " staff" : "");
    var when = document.createElement("div");
    when.className = "when";
    when.textContent = m.time;
    var who = document.createElement("div");
    who.className = "who";
    who.textContent = m.who === "patient" ? "Patient" : (m.who === "staff" ? "Staff \u00b7 " + m.name : "Assistant");
    var body = document.createElement("div");
    body.className = "body";
    var p = document.createElement("p");
    p.className = "text";
    p.textContent = m.text;
    body.appendChild(p);
    li.appendChild(when);
    li.appendChild(who);
    li.appendChild(body);
    list.appendChild(li);
  }
  if (list) {
    var after = Number(list.getAttribute("data-after")) || 0;
    var every = Math.max(0.2, Number(list.getAttribute("data-poll")) || 1.5) * 1000;
    var busy = false;
    var poll = function () {
      if (busy) return;
      busy = true;
      getJson(list.getAttribute("data-live") + "?after=" + after).then(function (data) {
        if (!data) return;
        (data.messages || []).forEach(function (m) {
          addMessage(m);
          after = Math.max(after, m.id);
        });
        // Someone took the conversation or handed it back: the controls change, so reload
        // (unless a reply is being written).
        var holder = data.holder || "";
        var reply = document.getElementById("reply-text");
        if (list.getAttribute("data-holder") !== holder && !(reply && reply.value)) window.location.reload();
      }).catch(function () { /* the next round tries again */ }).then(function () { busy = false; });
    };
    setInterval(poll, every);
  }

  // --- a reply sent without reloading ---
  var form = document.getElementById("reply-form");
  if (form && window.fetch && window.FormData) {
    var notice = document.getElementById("reply-notice");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      fetch(form.action, {
        method: "POST", credentials: "same-origin", body: new URLSearchParams(new FormData(form)),
        headers: { "X-Requested-With": "fetch", Accept: "application/json" }
      }).then(function (r) {
        var json = (r.headers.get("Content-Type") || "").indexOf("json") >= 0;
        if (r.ok && json) return r.json();
        form.submit(); // an error page explains what went wrong
        return null;
      }).then(function (data) {
        if (!data) return;
        document.getElementById("reply-text").value = "";
        if (notice) notice.textContent = data.notice || "Reply sent.";
      }).catch(function () {
        if (notice) notice.textContent = "The reply could not be sent. Check the connection and try again.";
      }).then(function () { button.disabled = false; });
    });
  }
})();

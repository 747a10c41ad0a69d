// The inbox's enhancements; reading and replying work without them.
//  - live updates: the server's event stream names conversations with news; the list (and
//    the open thread) are fetched again, drawn by the server.
//  - canned responses: typing "/shortcut" and a space expands it in the composer.
"use strict";

(function () {
  const root = document.querySelector(".inbox");
  if (!root) return;
  const openId = root.getAttribute("data-open");

  function refresh(url, targetId) {
    return fetch(url, { credentials: "same-origin" }).then(function (answer) {
      if (!answer.ok) return;
      return answer.text().then(function (html) {
        const target = document.getElementById(targetId);
        if (target) target.innerHTML = html;
      });
    });
  }

  // A new message must not take the agent's half-written reply, chosen files or focus: only
  // the head, the messages and the side panel are swapped, and the composer only when what
  // may be sent changed (the window closed, say).
  function refreshThread() {
    const url = "/app/inbox-fragments/thread/" + openId + window.location.search;
    return fetch(url, { credentials: "same-origin" }).then(function (answer) {
      if (!answer.ok) return;
      return answer.text().then(function (html) {
        const holder = document.createElement("div");
        holder.innerHTML = html;
        const fresh = holder.querySelector(".thread");
        const current = document.querySelector(".thread");
        if (!fresh || !current) return;
        const parts = [".thread-head", "#messages", ".thread-side"];
        if (fresh.getAttribute("data-mode") !== current.getAttribute("data-mode")) {
          parts.push(".composer");
          current.setAttribute("data-mode", fresh.getAttribute("data-mode"));
        }
        parts.forEach(function (selector) {
          const old = current.querySelector(selector);
          const replacement = fresh.querySelector(selector);
          if (old && replacement) old.replaceWith(replacement);
        });
        scrollDown();
      });
    });
  }

  function scrollDown() {
    const list = document.getElementById("messages");
    if (list) list.scrollTop = list.scrollHeight;
  }

  // The filters apply as soon as one is chosen.
  const filters = document.querySelector(".inbox-filters");
  if (filters) {
    filters.querySelectorAll("[data-js-hide]").forEach(function (el) { el.hidden = true; });
    filters.addEventListener("change", function () { filters.submit(); });
  }

  if (window.EventSource) {
    const stream = new EventSource(root.getAttribute("data-stream"));
    stream.addEventListener("changed", function (event) {
      const ids = JSON.parse(event.data).map(String);
      const params = new URLSearchParams(window.location.search);
      if (openId) params.set("open", openId);
      refresh("/app/inbox-fragments/list?" + params.toString(), "inbox-list");
      if (openId && ids.indexOf(openId) !== -1) refreshThread();
    });
  }

  // Canned responses: "/preis " becomes the stored text as the agent types.
  let canned = null;
  function loadCanned() {
    if (canned) return Promise.resolve(canned);
    return fetch("/app/inbox-canned.json", { credentials: "same-origin" })
      .then(function (answer) { return answer.ok ? answer.json() : {}; })
      .then(function (found) { canned = found; return canned; });
  }
  document.addEventListener("input", function (event) {
    const box = event.target;
    if (box.id !== "reply-text") return;
    const match = /(^|\s)\/([a-z0-9][a-z0-9_-]{0,31})([\s.,;:!?])$/i.exec(box.value);
    if (!match) return;
    loadCanned().then(function (map) {
      const text = map[match[2].toLowerCase()];
      if (!text) return;
      const start = box.value.length - match[0].length + match[1].length;
      box.value = box.value.slice(0, start) + text + match[3];
    });
  });

  scrollDown();
})();

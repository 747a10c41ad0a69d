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

  function refreshThread() {
    const typing = document.getElementById("reply-text");
    const draft = typing ? typing.value : "";
    const note = document.getElementById("note-text");
    const noteDraft = note ? note.value : "";
    return refresh("/app/inbox-fragments/thread/" + openId + window.location.search,
      "inbox-thread").then(function () {
      const again = document.getElementById("reply-text");
      if (again && draft) again.value = draft;
      const noteAgain = document.getElementById("note-text");
      if (noteAgain && noteDraft) noteAgain.value = noteDraft;
      scrollDown();
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

/* The sandbox phone: pick a number, then chat with the business through /sandbox/api.
 * Answers arrive live (server-sent events); ticks follow the messages' status. */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("sandbox-config").textContent);
  var L = config.labels;
  var REMEMBER = "botschaft_sandbox_phone";
  var MAX_INPUT_HEIGHT = 110;
  var $ = function (id) { return document.getElementById(id); };
  var setup = $("setup");
  var chat = $("chat");
  var thread = $("thread");
  var scroller = $("messages");
  var input = $("text");
  var notice = $("notice");
  var timeFormat = new Intl.DateTimeFormat(config.lang, { hour: "2-digit", minute: "2-digit" });
  // What a tick shows for each status of a message, and how a screen reader says it.
  var TICKS = {
    sending: "…", sent: "✓", delivered: "✓✓", read: "✓✓", failed: "!", received: "✓✓"
  };

  var phone = null;  // { number, name }
  var source = null;
  var seen = {};
  var pending = [];
  var lastId = 0;

  // --- the number ---------------------------------------------------------------------------

  function restore() {
    try {
      var kept = JSON.parse(window.localStorage.getItem(REMEMBER) || "null");
      if (kept) { $("number").value = kept.number || ""; $("name").value = kept.name || ""; }
    } catch (e) { /* nothing kept, or storage blocked */ }
  }

  function remember() {
    try { window.localStorage.setItem(REMEMBER, JSON.stringify(phone)); } catch (e) { /* ok */ }
  }

  function problem(response) {
    return response.json().then(function (body) {
      return (body && body.error && body.error.message) || String(response.status);
    }, function () { return String(response.status); });
  }

  function openPhone(event) {
    event.preventDefault();
    var number = $("number").value.trim();
    var error = $("setup-error");
    if (!number) { $("number").focus(); return; }
    error.hidden = true;
    fetch("/sandbox/api/messages?number=" + encodeURIComponent(number), { cache: "no-store" })
      .then(function (response) {
        if (!response.ok) {
          return problem(response).then(function (text) { throw new Error(text); });
        }
        return response.json();
      })
      .then(function (history) {
        phone = { number: number, name: $("name").value.trim() };
        remember();
        showChat();
        history.forEach(function (message) { show(message); });
        listen();
      })
      .catch(function (failure) {
        error.textContent = failure.message;
        error.hidden = false;
        $("number").setAttribute("aria-invalid", "true");
        $("number").focus();
      });
  }

  function showChat() {
    $("number").removeAttribute("aria-invalid");
    $("me").textContent = phone.name ? phone.name + " · " + phone.number : phone.number;
    setup.hidden = true;
    chat.hidden = false;
    input.focus();
  }

  function closePhone() {
    if (source) { source.close(); source = null; }
    thread.textContent = "";
    seen = {};
    pending = [];
    lastId = 0;
    say("");
    chat.hidden = true;
    setup.hidden = false;
    $("number").focus();
  }

  // --- messages -----------------------------------------------------------------------------

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }
    return node;
  }

  function authorLabel(message) {
    var payload = message.payload || {};
    if (message.author === "agent") { return payload.author_name || L.agent; }
    if (message.author === "bot") { return L.bot; }
    return null;
  }

  function bubbleFor(message) {
    var mine = message.direction === "in";  // "in" to the business is what this phone sent
    var item = element("li", "msg " + (mine ? "mine" : "theirs"));
    if (message.id) { item.dataset.id = String(message.id); }
    var bubble = element("div", "bubble");
    var author = mine ? null : authorLabel(message);
    if (author) { bubble.appendChild(element("span", "author", author)); }
    var media = message.payload && message.payload.media;
    if (media && media.url) {
      // A file an agent sent: its link is on this server (the one providers fetch from).
      var address = new URL(media.url, window.location.href).pathname;
      if (media.kind === "image") {
        var image = element("img", "media");
        image.src = address;
        image.alt = "";
        bubble.appendChild(image);
      }
      var link = element("a", "file", media.filename || media.kind);
      link.href = address;
      link.target = "_blank";
      link.rel = "noopener";
      bubble.appendChild(link);
    }
    if (message.text || !media) { bubble.appendChild(element("p", "", message.text || "")); }
    var meta = element("span", "meta");
    var when = message.created_at ? new Date(message.created_at) : new Date();
    var time = element("time", "", timeFormat.format(when));
    time.dateTime = when.toISOString();
    meta.appendChild(time);
    meta.appendChild(element("span", "tick"));
    bubble.appendChild(meta);
    item.appendChild(bubble);
    setStatus(item, message.status || "sending");
    var buttons = (message.payload && message.payload.buttons) || [];
    if (!mine && buttons.length) { item.appendChild(choices(buttons)); }
    return item;
  }

  function setStatus(item, status) {
    var tick = item.querySelector(".tick");
    tick.textContent = TICKS[status] || "";
    tick.className = "tick " + status;
    tick.setAttribute("role", "img");
    tick.setAttribute("aria-label", L[status] || status);
    tick.title = L[status] || status;
  }

  function choices(buttons) {
    var group = element("div", "choices");
    group.setAttribute("role", "group");
    buttons.forEach(function (choice) {
      var button = element("button", "choice", choice.title);
      button.type = "button";
      button.dataset.button = choice.id;
      button.addEventListener("click", function () {
        button.classList.add("chosen");
        send(choice.title, choice.id);
      });
      group.appendChild(button);
    });
    return group;
  }

  function show(message) {
    // Skipped messages never reached the phone (the gate said no); a real phone would not
    // show them either.
    if (message.status === "skipped" || seen[message.id]) { return; }
    seen[message.id] = true;
    lastId = Math.max(lastId, message.id);
    var item = bubbleFor(message);
    var placeholder = message.direction === "in" ? claimPending(message.text) : null;
    if (placeholder) { thread.replaceChild(item, placeholder); } else { thread.appendChild(item); }
    scroller.scrollTop = scroller.scrollHeight;
  }

  function claimPending(text) {
    for (var i = 0; i < pending.length; i += 1) {
      if (pending[i].text === text) { return pending.splice(i, 1)[0].node; }
    }
    return null;
  }

  function updateStatus(message) {
    var item = thread.querySelector('[data-id="' + Number(message.id) + '"]');
    if (item) { setStatus(item, message.status); }
  }

  function say(text) {
    notice.textContent = text;
    notice.hidden = !text;
  }

  // --- live ---------------------------------------------------------------------------------

  function listen() {
    source = new EventSource("/sandbox/api/stream?number=" + encodeURIComponent(phone.number) +
      "&after_id=" + lastId);
    source.addEventListener("open", function () { say(""); });
    source.addEventListener("message", function (event) { show(JSON.parse(event.data)); });
    source.addEventListener("status", function (event) { updateStatus(JSON.parse(event.data)); });
    source.addEventListener("error", function () {
      // EventSource reconnects by itself; say so meanwhile.
      if (source && source.readyState !== EventSource.OPEN) { say(L.offline); }
    });
  }

  // --- sending ------------------------------------------------------------------------------

  function send(text, button) {
    var item = bubbleFor({ direction: "in", text: text, status: "sending" });
    var entry = { text: text, node: item };
    pending.push(entry);
    thread.appendChild(item);
    scroller.scrollTop = scroller.scrollHeight;
    var body = { number: phone.number, text: text };
    if (button) { body.button = button; }
    if (phone.name) { body.name = phone.name; }
    fetch("/sandbox/api/messages", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body), cache: "no-store"
    }).then(function (response) {
      if (!response.ok) {
        return problem(response).then(function (text) { throw new Error(text); });
      }
      setStatus(item, "sent");
      return response.json().then(function (accepted) {
        phone.number = accepted.number;
        $("me").textContent = phone.name ? phone.name + " · " + phone.number : phone.number;
      });
    }).catch(function (failure) {
      setStatus(item, "failed");
      pending.splice(pending.indexOf(entry), 1);
      say(L.sendFailed + " " + failure.message);
    });
  }

  function submit(event) {
    if (event) { event.preventDefault(); }
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    resize();
    send(text, null);
  }

  function resize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, MAX_INPUT_HEIGHT) + "px";
  }

  setup.addEventListener("submit", openPhone);
  $("back").addEventListener("click", closePhone);
  $("composer").addEventListener("submit", submit);
  input.addEventListener("input", resize);
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { submit(event); }
  });
  restore();
}());

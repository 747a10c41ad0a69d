/* The chat window inside the widget's iframe: shows the conversation, sends what the visitor
 * types, and receives answers live from /webchat/api/stream. Plain DOM, no libraries. */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("botschaft-config").textContent);
  var L = config.labels;
  var STORE = "botschaft_visitor";
  var MAX_INPUT_HEIGHT = 120;
  var thread = document.getElementById("thread");
  var scroller = document.getElementById("messages");
  var form = document.getElementById("composer");
  var input = document.getElementById("text");
  var notice = document.getElementById("notice");
  var closeButton = document.getElementById("close");
  var embedded = window.parent !== window;
  var timeFormat = new Intl.DateTimeFormat(config.lang, { hour: "2-digit", minute: "2-digit" });

  var token = initialToken();
  var lastId = 0;
  var seen = {};
  var pending = [];
  var lastAuthor = "greeting";
  var retryMs = 2000;
  var stopped = false;

  document.documentElement.style.setProperty("--accent", config.accent);

  // --- who we are -------------------------------------------------------------------------

  // Normally the HttpOnly cookie names the visitor and config.token is empty. Embedded on
  // another site the cookie cannot work; then the server hands us the signed id and we keep
  // it in this site's own storage, so the conversation is still there on the next page.
  function initialToken() {
    if (!config.token) { return null; }
    var kept = null;
    try { kept = window.localStorage.getItem(STORE); } catch (e) { kept = null; }
    if (kept) { return kept; }
    remember(config.token);
    return config.token;
  }

  function remember(value) {
    try { window.localStorage.setItem(STORE, value); } catch (e) { /* storage blocked */ }
  }

  function call(method, url, body) {
    var headers = { "Accept": "application/json" };
    if (body) { headers["Content-Type"] = "application/json"; }
    if (token) { headers["X-Botschaft-Visitor"] = token; }
    return fetch(url, {
      method: method, headers: headers, body: body ? JSON.stringify(body) : undefined,
      credentials: "same-origin", cache: "no-store"
    }).then(function (response) {
      if (response.status === 401 && config.token && token !== config.token) {
        // The kept id is no longer valid (e.g. a new signing key): use the one just issued.
        token = config.token;
        remember(token);
        return call(method, url, body);
      }
      return response;
    });
  }

  // --- showing messages -------------------------------------------------------------------

  function authorOf(message) {
    if (message.direction === "in") { return "you"; }
    var payload = message.payload || {};
    if (message.author === "agent") { return payload.author_name || L.agent; }
    if (message.author === "bot") { return L.bot; }
    return config.business;
  }

  function textNodes(parent, text) {
    // Links become anchors; everything else stays text (never HTML).
    var parts = String(text || "").split(/(https?:\/\/[^\s<>"]+)/);
    parts.forEach(function (part, index) {
      if (index % 2 === 0) {
        if (part) { parent.appendChild(document.createTextNode(part)); }
        return;
      }
      var trail = (part.match(/[.,;:!?)\]]+$/) || [""])[0];
      var url = trail ? part.slice(0, -trail.length) : part;
      var link = document.createElement("a");
      link.href = url;
      link.textContent = url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      parent.appendChild(link);
      if (trail) { parent.appendChild(document.createTextNode(trail)); }
    });
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }
    return node;
  }

  function bubbleFor(message, author) {
    var mine = message.direction === "in";
    var item = element("li", "msg " + (mine ? "mine" : "theirs"));
    if (!mine && author !== lastAuthor) {
      item.appendChild(element("span", "author", author));
    }
    var bubble = element("div", "bubble");
    var paragraph = element("p");
    textNodes(paragraph, message.text);
    bubble.appendChild(paragraph);
    var meta = element("span", "meta");
    var time = element("time", "", message.created_at ? timeFormat.format(new Date(message.created_at)) : "");
    if (message.created_at) { time.dateTime = message.created_at; }
    meta.appendChild(time);
    if (mine) {
      var tick = element("span", "tick", "✓");
      tick.setAttribute("role", "img");
      tick.setAttribute("aria-label", L.sent);
      meta.appendChild(tick);
    }
    bubble.appendChild(meta);
    item.appendChild(bubble);
    var buttons = (message.payload && message.payload.buttons) || [];
    if (buttons.length) { item.appendChild(choices(buttons)); }
    return item;
  }

  function choices(buttons) {
    var group = element("div", "choices");
    group.setAttribute("role", "group");
    buttons.forEach(function (choice) {
      var button = element("button", "choice", choice.title);
      button.type = "button";
      button.addEventListener("click", function () {
        group.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
        button.classList.add("chosen");
        post(choice.title, choice.id);
      });
      group.appendChild(button);
    });
    return group;
  }

  function show(message, live) {
    if (seen[message.id]) { return; }
    seen[message.id] = true;
    lastId = Math.max(lastId, message.id);
    var author = authorOf(message);
    var item = bubbleFor(message, author);
    var placeholder = message.direction === "in" ? claimPending(message.text) : null;
    if (placeholder) {
      thread.replaceChild(item, placeholder);
    } else {
      thread.appendChild(item);
    }
    lastAuthor = author;
    scrollDown();
    if (live && message.direction === "out" && embedded) {
      window.parent.postMessage({ type: "botschaft:unread" }, "*");
    }
  }

  function claimPending(text) {
    for (var i = 0; i < pending.length; i += 1) {
      if (pending[i].text === text) { return pending.splice(i, 1)[0].node; }
    }
    return null;
  }

  function scrollDown() { scroller.scrollTop = scroller.scrollHeight; }

  function say(text) {
    notice.textContent = text;
    notice.hidden = !text;
  }

  // --- sending ----------------------------------------------------------------------------

  function post(text, button) {
    var item = bubbleFor({ direction: "in", text: text }, "you");
    item.classList.add("pending");
    var tick = item.querySelector(".tick");
    tick.textContent = "…";
    tick.setAttribute("aria-label", L.sending);
    var entry = { text: text, node: item };
    pending.push(entry);
    thread.appendChild(item);
    lastAuthor = "you";
    scrollDown();
    var body = button ? { text: text, button: button } : { text: text };
    call("POST", "/webchat/api/messages", body).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      say("");
    }).catch(function () {
      pending.splice(pending.indexOf(entry), 1);
      item.remove();
      if (!input.value) { input.value = text; resize(); }
      say(L.sendFailed);
    });
  }

  function submit() {
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    resize();
    post(text, null);
  }

  function resize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, MAX_INPUT_HEIGHT) + "px";
  }

  // --- receiving --------------------------------------------------------------------------

  // The stream is read with fetch rather than EventSource so that it can carry the visitor
  // header where the cookie cannot work.
  function connect() {
    if (stopped) { return; }
    call("GET", "/webchat/api/stream?after_id=" + lastId).then(function (response) {
      if (response.status === 401) { stop(); return; }
      if (!response.ok || !response.body) { throw new Error(String(response.status)); }
      say("");
      return readEvents(response.body.getReader());
    }).catch(function () {
      say(L.offline);
    }).then(function () {
      if (!stopped) { window.setTimeout(connect, retryMs); }
    });
  }

  function readEvents(reader) {
    var decoder = new TextDecoder();
    var buffer = "";
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) { return; }
        buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r/g, "");
        var blocks = buffer.split("\n\n");
        buffer = blocks.pop();
        blocks.forEach(dispatch);
        return pump();
      });
    }
    return pump();
  }

  function dispatch(block) {
    var type = "message";
    var data = [];
    block.split("\n").forEach(function (line) {
      var colon = line.indexOf(":");
      if (colon <= 0) { return; }  // blank, or a comment (keep-alive)
      var field = line.slice(0, colon);
      var value = line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") { type = value; }
      if (field === "data") { data.push(value); }
      if (field === "retry" && Number(value) > 0) { retryMs = Number(value); }
    });
    if (type === "message" && data.length) { show(JSON.parse(data.join("\n")), true); }
  }

  function stop() {
    stopped = true;
    say(L.sessionLost);
    form.querySelectorAll("textarea, button").forEach(function (node) { node.disabled = true; });
  }

  function start() {
    call("GET", "/webchat/api/messages").then(function (response) {
      if (response.status === 401) { stop(); return null; }
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (history) {
      (history || []).forEach(function (message) { show(message, false); });
    }).catch(function () {
      say(L.offline);
    }).then(connect);
  }

  // --- the window's controls --------------------------------------------------------------

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    submit();
  });
  input.addEventListener("keydown", function (event) {
    // Enter sends, Shift+Enter starts a new line (as in every messenger).
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  input.addEventListener("input", resize);

  function closeWindow() { window.parent.postMessage({ type: "botschaft:close" }, "*"); }
  if (embedded) {
    closeButton.hidden = false;
    closeButton.addEventListener("click", closeWindow);
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { closeWindow(); }
    });
    window.addEventListener("message", function (event) {
      if (event.source === window.parent && event.data && event.data.type === "botschaft:focus") {
        input.focus();
      }
    });
  }

  start();
}());

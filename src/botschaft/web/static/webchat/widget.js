/* Botschaft website chat: the button and window a website embeds with one script tag.
 *
 *   <script src="<your Botschaft address>/webchat/widget.js" defer></script>
 *
 * The script finds Botschaft's address in its own src and talks to nobody else.
 * Optional attributes on that tag: data-lang="de|en" (else the page's <html lang>) and
 * data-color="#RRGGBB". Nothing is loaded from Botschaft before the visitor opens the chat:
 * the window (an iframe on Botschaft's own origin) is created on the first click.
 */
(function () {
  "use strict";
  if (window.__botschaftWebchat) { return; }  // embedded twice: one button is enough
  window.__botschaftWebchat = true;

  var LABELS = /*LABELS*/{};
  var DEFAULT_COLOUR = "#0b6e63";
  var script = document.currentScript ||
    document.querySelector('script[src*="/webchat/widget.js"]');
  if (!script) { return; }
  var origin = new URL(script.src, window.location.href).origin;

  function language() {
    var wanted = (script.getAttribute("data-lang") || document.documentElement.lang ||
      navigator.language || "").toLowerCase().split("-")[0];
    return LABELS[wanted] ? wanted : (LABELS.en ? "en" : Object.keys(LABELS)[0]);
  }
  var lang = language();
  var text = LABELS[lang] || { open: "Open chat", close: "Close chat", title: "Chat" };
  var colour = script.getAttribute("data-color") || "";
  if (!/^#[0-9a-fA-F]{6}$/.test(colour)) { colour = DEFAULT_COLOUR; }

  var CSS = [
    ":host { all: initial; }",
    ".launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483646;",
    "  width: 60px; height: 60px; border-radius: 50%; border: 0; cursor: pointer;",
    "  background: var(--accent); color: #fff; display: grid; place-items: center;",
    "  box-shadow: 0 6px 20px rgba(16, 24, 40, .22), 0 2px 6px rgba(16, 24, 40, .12);",
    "  transition: transform .15s ease, box-shadow .15s ease; }",
    ".launcher:hover { transform: translateY(-2px);",
    "  box-shadow: 0 10px 26px rgba(16, 24, 40, .26), 0 3px 8px rgba(16, 24, 40, .14); }",
    ".launcher:focus-visible { outline: 3px solid #fff; box-shadow: 0 0 0 6px var(--accent); }",
    ".launcher svg { width: 28px; height: 28px; }",
    ".launcher .icon-close { display: none; }",
    ".launcher[aria-expanded='true'] .icon-open { display: none; }",
    ".launcher[aria-expanded='true'] .icon-close { display: block; }",
    ".badge { position: absolute; top: 2px; right: 2px; width: 14px; height: 14px;",
    "  border-radius: 50%; background: #e5484d; border: 2px solid #fff; }",
    ".badge[hidden] { display: none; }",
    ".panel { position: fixed; right: 20px; bottom: 92px; z-index: 2147483647;",
    "  width: 380px; height: min(640px, calc(100vh - 120px)); border-radius: 16px;",
    "  overflow: hidden; background: #fff;",
    "  box-shadow: 0 18px 50px rgba(16, 24, 40, .28), 0 4px 12px rgba(16, 24, 40, .12); }",
    ".panel[hidden] { display: none; }",
    ".panel iframe { width: 100%; height: 100%; border: 0; display: block; }",
    "@media (max-width: 480px) {",
    "  .panel { right: 0; bottom: 0; width: 100vw; height: 100%; border-radius: 0; }",
    "  .launcher[aria-expanded='true'] { display: none; } }",
    "@media (prefers-reduced-motion: reduce) { .launcher { transition: none; } }"
  ].join("\n");

  // Static markup only; nothing from the page or the network is ever put into innerHTML.
  var CHAT_ICON = '<svg class="icon-open" viewBox="0 0 24 24" fill="none" ' +
    'stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" ' +
    'aria-hidden="true"><path d="M21 12a8 8 0 0 1-11.6 7.1L4 20.5l1.4-4.9A8 8 0 1 1 21 12z"/>' +
    '</svg><svg class="icon-close" viewBox="0 0 24 24" fill="none" stroke="currentColor" ' +
    'stroke-width="2.2" stroke-linecap="round" aria-hidden="true">' +
    '<path d="M6 6l12 12M18 6L6 18"/></svg><span class="badge" hidden></span>';

  var host = document.createElement("div");
  host.setAttribute("data-botschaft-webchat", "");
  // A shadow root keeps the website's styles and ours apart, in both directions.
  var root = host.attachShadow({ mode: "open" });
  if (root.adoptedStyleSheets !== undefined && window.CSSStyleSheet &&
      "replaceSync" in CSSStyleSheet.prototype) {
    // Constructed style sheets also work on sites whose CSP forbids inline <style>.
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
  } else {
    var style = document.createElement("style");
    style.textContent = CSS;
    root.appendChild(style);
  }

  var launcher = document.createElement("button");
  launcher.type = "button";
  launcher.className = "launcher";
  launcher.style.setProperty("--accent", colour);
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", "botschaft-chat-panel");
  launcher.setAttribute("aria-label", text.open);
  launcher.title = text.open;
  launcher.innerHTML = CHAT_ICON;
  var badge = launcher.querySelector(".badge");

  var panel = document.createElement("div");
  panel.className = "panel";
  panel.id = "botschaft-chat-panel";
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", text.title || "Chat");
  panel.hidden = true;
  var frame = null;
  var loaded = false;  // until then the iframe holds about:blank, which must not be told

  function frameUrl() {
    return origin + "/webchat/frame?lang=" + encodeURIComponent(lang) +
      "&color=" + encodeURIComponent(colour);
  }

  function open() {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.src = frameUrl();
      frame.title = panel.getAttribute("aria-label");
      frame.setAttribute("referrerpolicy", "no-referrer");
      frame.addEventListener("load", function () { loaded = true; tell("botschaft:focus"); });
      panel.appendChild(frame);
    }
    panel.hidden = false;
    badge.hidden = true;
    launcher.setAttribute("aria-expanded", "true");
    launcher.setAttribute("aria-label", text.close);
    launcher.title = text.close;
    tell("botschaft:focus");
  }

  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-label", text.open);
    launcher.title = text.open;
    launcher.focus();
  }

  function tell(type) {
    if (loaded) { frame.contentWindow.postMessage({ type: type }, origin); }
  }

  launcher.addEventListener("click", function () {
    if (panel.hidden) { open(); } else { close(); }
  });

  window.addEventListener("message", function (event) {
    // Only our own window may steer the widget.
    if (!frame || event.origin !== origin || event.source !== frame.contentWindow) { return; }
    var type = event.data && event.data.type;
    if (type === "botschaft:close") { close(); }
    if (type === "botschaft:unread" && panel.hidden) { badge.hidden = false; }
  });

  root.appendChild(panel);
  root.appendChild(launcher);
  function mount() { document.body.appendChild(host); }
  if (document.body) { mount(); } else { document.addEventListener("DOMContentLoaded", mount); }
}());

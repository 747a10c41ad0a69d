// The admin app's small enhancements; every page works without them.
//  - data-confirm="question" on a form: asks before it is sent (disable, revoke, withdraw).
//  - data-copy="element-id" on a button: copies that element's text or value.
//  - botschaftFetch(url, options): fetch with the page's CSRF token, for the app's scripts.
"use strict";

(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]');

  window.botschaftFetch = function (url, options) {
    const settings = Object.assign({ credentials: "same-origin" }, options || {});
    settings.headers = Object.assign({}, settings.headers || {});
    if (csrf) settings.headers["X-CSRF-Token"] = csrf.content;
    return fetch(url, settings);
  };

  document.addEventListener("submit", function (event) {
    const form = event.target;
    const question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-copy]");
    if (!button) return;
    const source = document.getElementById(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) return;
    const text = "value" in source ? source.value : source.textContent;
    navigator.clipboard.writeText(text.trim()).then(function () {
      const label = button.textContent;
      button.textContent = button.getAttribute("data-copied") || label;
      window.setTimeout(function () { button.textContent = label; }, 1600);
    });
  });
})();

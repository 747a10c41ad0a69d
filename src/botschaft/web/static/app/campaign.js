// Campaign screens:
//  - the "new campaign" form shows only the fields of the chosen kind (all without script);
//  - a running (or scheduled) campaign's figures follow its summary every few seconds,
//    and the page reloads once its status changes, so its buttons fit the new state.
"use strict";

(function () {
  const POLL_MS = 2000;

  const kinds = document.querySelectorAll('input[name="kind"]');
  const sections = document.querySelectorAll(".kind-fields[data-kind]");
  function showKind() {
    const chosen = document.querySelector('input[name="kind"]:checked');
    sections.forEach(function (section) {
      section.hidden = !chosen || section.getAttribute("data-kind") !== chosen.value;
    });
  }
  if (kinds.length) {
    kinds.forEach(function (input) { input.addEventListener("change", showKind); });
    showKind();
  }

  const results = document.getElementById("results");
  const url = results && results.getAttribute("data-summary-url");
  if (!url) return;
  const shownStatus = results.getAttribute("data-status");
  const skipList = document.getElementById("skip-list");

  function showSkips(skipped) {
    skipList.replaceChildren();
    if (!skipped.length) {
      const none = document.createElement("li");
      none.className = "hint";
      none.textContent = skipList.getAttribute("data-none");
      skipList.append(none);
      return;
    }
    skipped.forEach(function (pair) {
      const item = document.createElement("li");
      const label = document.createElement("span");
      const count = document.createElement("strong");
      label.textContent = pair[0];
      count.textContent = String(pair[1]);
      item.append(label, count);
      skipList.append(item);
    });
  }

  function poll() {
    window.botschaftFetch(url).then(function (answer) {
      if (!answer.ok) throw new Error(String(answer.status));
      return answer.json();
    }).then(function (summary) {
      Object.keys(summary.figures).forEach(function (name) {
        const cell = results.querySelector('[data-figure="' + name + '"]');
        if (cell) cell.textContent = String(summary.figures[name]);
      });
      showSkips(summary.skipped);
      if (summary.status !== shownStatus) {
        // Without ?done=…: the notice of the last action no longer fits the new state.
        window.location.replace(window.location.pathname);
        return;
      }
      window.setTimeout(poll, POLL_MS);
    }).catch(function () { window.setTimeout(poll, POLL_MS * 3); });
  }
  window.setTimeout(poll, POLL_MS);
})();

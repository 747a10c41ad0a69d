// The audience form counts as it is edited: every change posts the form to the count
// endpoint and shows the answer. Without this script the form's "Count" button does it.
"use strict";

(function () {
  const form = document.getElementById("audience-form");
  const output = document.getElementById("audience-count");
  if (!form || !output) return;
  let timer = null;
  let asked = 0;

  function count() {
    const mine = ++asked;
    const body = new URLSearchParams(new FormData(form));
    window.botschaftFetch(form.getAttribute("data-count-url"), {
      method: "POST", body: body,
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    }).then(function (answer) {
      return answer.json();
    }).then(function (found) {
      if (mine !== asked) return;  // an older answer arriving late
      output.textContent = found.error || found.text;
      output.classList.toggle("is-error", Boolean(found.error));
    }).catch(function () { /* offline: the count button still works */ });
  }

  function soon() {
    window.clearTimeout(timer);
    timer = window.setTimeout(count, 350);
  }

  form.addEventListener("input", soon);
  form.addEventListener("change", soon);
  count();
})();

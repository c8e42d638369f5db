// Keyboard-first annotation (Winnow feedback): numbers pick a label or a rating, A/B/T or the arrows
// pick a side, Enter submits, S skips (asks why), U undoes the last answer, E edits a correction.
// Written for this app; no library, nothing fetched.
(function () {
  "use strict";
  var form = document.getElementById("answer");
  var skip = document.getElementById("skip");
  var undo = document.getElementById("undo-form") || (document.getElementById("undo") || {}).form;
  var status = document.getElementById("selected");
  var selected = null;
  var sent = false;
  var keyed = {};
  // a long prompt scrolls in its box: start at its end, the turn the responses answer
  document.querySelectorAll(".task > .chat").forEach(function (chat) { chat.scrollTop = chat.scrollHeight; });
  if (form) {
    form.querySelectorAll("button[data-key]").forEach(function (button) {
      button.getAttribute("data-key").split(" ").forEach(function (key) { keyed[key.toLowerCase()] = button; });
    });
    form.addEventListener("submit", function (event) {
      if (sent) { event.preventDefault(); return; }
      sent = true;
    });
  }

  function choose(button) {
    if (selected) { selected.classList.remove("selected"); selected.removeAttribute("aria-pressed"); }
    selected = button;
    button.classList.add("selected");
    button.setAttribute("aria-pressed", "true");
    if (status) { status.textContent = "Selected: " + (button.getAttribute("data-label") || button.value) + " (Enter to submit)"; }
  }

  function typing(target) {
    return target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT");
  }

  function rankingKey(key) {
    var order = document.getElementById("order");
    var n = parseInt(form.getAttribute("data-candidates"), 10);
    if (key === "0") { order.value = ""; return true; }
    var k = parseInt(key, 10);
    if (k >= 1 && k <= n) {
      var items = order.value ? order.value.split(",") : [];
      if (items.indexOf(String(k)) < 0) { items.push(String(k)); }
      order.value = items.join(",");
      if (status) { status.textContent = "Ranking: " + order.value + (items.length === n ? " (Enter to submit)" : ""); }
      return true;
    }
    return false;
  }

  document.addEventListener("keydown", function (event) {
    var key = event.key;
    var target = event.target;
    if (event.altKey || event.metaKey) { return; }
    if (target && target.id === "correction") {
      if (key === "Enter" && event.ctrlKey) { event.preventDefault(); form.requestSubmit(); }
      if (key === "Escape") { target.blur(); }
      return;
    }
    if (target && target.id === "skip-reason") {
      if (key === "Escape") { skip.hidden = true; target.blur(); }
      return;  // Enter submits the skip form natively
    }
    if (typing(target) && target.id !== "order") { return; }
    if (event.ctrlKey) { return; }
    var lower = key.length === 1 ? key.toLowerCase() : key;
    if (form && form.getAttribute("data-task") === "ranking" && /^[0-9]$/.test(key)) {
      if (rankingKey(key)) { event.preventDefault(); }
      return;
    }
    if (form && keyed[lower.toLowerCase ? lower.toLowerCase() : lower]) {
      event.preventDefault();
      choose(keyed[lower.toLowerCase()]);
      return;
    }
    if (key === "Enter" && form) {
      event.preventDefault();
      if (selected) { form.requestSubmit(selected); }
      else if (form.getAttribute("data-task") === "ranking" || form.getAttribute("data-task") === "correction") {
        form.requestSubmit();
      } else if (status) { status.textContent = "Pick an answer first (see the keys)"; }
      return;
    }
    if (lower === "e" && form && form.getAttribute("data-task") === "correction") {
      event.preventDefault();
      document.getElementById("correction").focus();
      return;
    }
    if (lower === "s" && skip) {
      event.preventDefault();
      skip.hidden = false;
      document.getElementById("skip-reason").focus();
      return;
    }
    if (lower === "u" && undo) {
      event.preventDefault();
      undo.requestSubmit();
    }
  });
})();

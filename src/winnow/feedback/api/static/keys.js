// Keyboard-first annotation (Winnow feedback): numbers pick a label or a rating, A/B/T or the arrows
// pick a side, Enter submits, S skips (asks why), U undoes the last answer, E edits a correction,
// C writes a comment, Q marks the next further question (its options then take the number keys).
// The answer so far (and the comment) is saved as a draft a moment after each change, so a reload or
// a later visit resumes it. Spans have their own keys (spans.js, which runs
// first and marks the keys it used with preventDefault). Written for this app; no library, nothing fetched.
(function () {
  "use strict";
  var form = document.getElementById("answer");
  var skip = document.getElementById("skip");
  var undo = document.getElementById("undo-form") || (document.getElementById("undo") || {}).form;
  var status = document.getElementById("selected");
  var selected = null;
  var sent = false;
  var keyed = {};
  var task = form ? form.getAttribute("data-task") : null;
  var draftUrl = form ? form.getAttribute("data-draft-url") : null;
  var comment = document.getElementById("comment");
  var draftStatus = document.getElementById("draft-status");
  var csrf = (document.querySelector("meta[name=csrf-token]") || {}).content;
  var timer = null, inflight = null, restoring = false;
  // further questions (fieldsets): Q marks the next one and the numbers answer the marked one; the
  // main question takes part in the round only where it answers with numbers itself
  var questions = form ? Array.prototype.slice.call(form.querySelectorAll("fieldset.question")) : [];
  var numbersForMain = task === "rating" || task === "label" || task === "ranking" || task === "spans";
  var round = (numbersForMain ? [null] : []).concat(questions);
  var active = round.length ? round[0] : null;
  if (active) { active.classList.add("active"); }
  // a long prompt scrolls in its box: start at its end, the turn the responses answer
  document.querySelectorAll(".task > .chat").forEach(function (chat) { chat.scrollTop = chat.scrollHeight; });
  if (form) {
    form.querySelectorAll("button[data-key]").forEach(function (button) {
      button.getAttribute("data-key").split(" ").forEach(function (key) { keyed[key.toLowerCase()] = button; });
    });
    form.addEventListener("submit", function (event) {
      if (sent) { event.preventDefault(); return; }
      var missing = questions.filter(function (q) { return !q.querySelector("input:checked, input[type=checkbox]"); });
      questions.forEach(function (q) { q.classList.toggle("missing", missing.indexOf(q) >= 0); });
      if (missing.length) {  // every further question is required: say which, keep the main choice
        event.preventDefault();
        if (event.submitter && event.submitter.hasAttribute("data-key")) { choose(event.submitter); }
        mark(missing[0]);
        sayMissing(missing);
        return;
      }
      clearTimeout(timer);  // the answer itself is on its way: no draft after it
      timer = null;
      if (inflight) {  // a draft still being saved would land after the answer: wait for it
        event.preventDefault();
        var submitter = event.submitter || null;
        inflight.then(function () { form.requestSubmit(submitter); });
        return;
      }
      sent = true;
    });
    form.addEventListener("change", function (event) {  // a mouse click on an option counts as answering it
      var question = event.target.closest && event.target.closest("fieldset.question");
      if (question) { answered(question); }
      scheduleDraft();
    });
    form.addEventListener("input", scheduleDraft);
  }

  function answerSoFar() {
    var main = mainSoFar();
    if (questions.length) {
      main.questions = {};
      questions.forEach(function (q) {
        var picked = Array.prototype.map.call(q.querySelectorAll("input:checked"), function (i) { return i.value; });
        var multi = !!q.querySelector("input[type=checkbox]");
        if (!picked.length && !multi) { return; }
        var name = q.getAttribute("data-question");
        main.questions[name] = q.getAttribute("data-task") === "rating" ? { rating: parseInt(picked[0], 10) } : { labels: picked };
      });
    }
    return main;
  }

  function sayMissing(missing) {
    if (!status) { return; }
    if (!missing.length) {  // all answered now: back to what Enter would send
      status.textContent = selected ? "Selected: " + (selected.getAttribute("data-label") || selected.value) + " (Enter to submit)" : "";
      return;
    }
    status.textContent = "Answer " + missing.map(function (q) {
      return "“" + q.querySelector("legend").firstChild.textContent.trim() + "”";
    }).join(", ") + " too (Q moves between questions)";
  }

  function answered(question) {
    // a question flagged as missing is answered now: unflag it and say what is still open
    if (!question.classList.contains("missing")) { return; }
    question.classList.remove("missing");
    sayMissing(questions.filter(function (q) { return q.classList.contains("missing"); }));
  }

  function mark(question) {
    if (active) { active.classList.remove("active"); }
    active = question;
    if (active) {
      active.classList.add("active");
      active.scrollIntoView({ block: "nearest" });
    }
  }

  function questionKey(key) {
    // a number for the marked further question: pick that option (a checkbox toggles)
    var options = active.querySelectorAll("input");
    var k = parseInt(key, 10);
    if (!(k >= 1 && k <= options.length)) { return; }
    var option = options[k - 1];
    option.checked = option.type === "checkbox" ? !option.checked : true;
    answered(active);
    scheduleDraft();
  }

  function mainSoFar() {
    if (task === "spans") { return { spans: JSON.parse(document.getElementById("spans-value").value || "[]") }; }
    if (task === "correction") { return { text: document.getElementById("correction").value }; }
    if (task === "ranking") {
      var raw = document.getElementById("order").value;
      return { order: raw ? raw.split(",").map(function (x) { return parseInt(x, 10) - 1; }) : [] };
    }
    if (!selected) { return {}; }
    if (task === "pairwise") { return { choice: selected.value }; }
    if (task === "rating") { return { rating: parseInt(selected.value, 10) }; }
    return { labels: [selected.value] };
  }

  function scheduleDraft() {
    if (!draftUrl || sent || restoring) { return; }
    clearTimeout(timer);
    timer = setTimeout(saveDraft, 600);
    if (draftStatus) { draftStatus.textContent = "Saving the draft…"; }
  }

  function saveDraft(leaving) {
    timer = null;
    if (sent) { return; }
    var body = JSON.stringify({ value: answerSoFar(), comment: comment ? comment.value : null });
    inflight = fetch(draftUrl, {
      method: "POST", credentials: "same-origin", body: body, keepalive: leaving === true,
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    }).then(function (response) {
      if (draftStatus) { draftStatus.textContent = response.ok ? "Draft saved" : "Draft not saved (" + response.status + ")"; }
    }, function () {
      if (draftStatus) { draftStatus.textContent = "Draft not saved (offline?)"; }
    }).then(function () { inflight = null; });
  }

  function restoreDraft() {
    // spans and corrections restore themselves (the page holds their draft); here the buttons and the ranking
    var draft = null;
    try { draft = JSON.parse(form.getAttribute("data-draft") || "null"); } catch (e) { draft = null; }
    if (!draft) { return; }
    restoring = true;
    var value = draft.choice || draft.rating || (draft.labels || [])[0];
    if (value !== undefined && value !== null) {
      form.querySelectorAll("button[data-key]").forEach(function (button) {
        if (button.value === String(value)) { choose(button); }
      });
    }
    if (task === "ranking" && draft.order && draft.order.length) {
      document.getElementById("order").value = draft.order.map(function (i) { return i + 1; }).join(",");
    }
    restoring = false;
  }

  function choose(button) {
    if (selected) { selected.classList.remove("selected"); selected.removeAttribute("aria-pressed"); }
    selected = button;
    button.classList.add("selected");
    button.setAttribute("aria-pressed", "true");
    if (status) { status.textContent = "Selected: " + (button.getAttribute("data-label") || button.value) + " (Enter to submit)"; }
    scheduleDraft();
  }

  function typing(target) {
    // a radio or checkbox a mouse just clicked holds the focus but takes no text: the keys still work
    if (target && target.tagName === "INPUT" && (target.type === "radio" || target.type === "checkbox")) { return false; }
    return target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT");
  }

  function rankingKey(key) {
    var order = document.getElementById("order");
    var n = parseInt(form.getAttribute("data-candidates"), 10);
    if (key === "0") { order.value = ""; scheduleDraft(); return true; }
    var k = parseInt(key, 10);
    if (k >= 1 && k <= n) {
      var items = order.value ? order.value.split(",") : [];
      if (items.indexOf(String(k)) < 0) { items.push(String(k)); }
      order.value = items.join(",");
      if (status) { status.textContent = "Ranking: " + order.value + (items.length === n ? " (Enter to submit)" : ""); }
      scheduleDraft();
      return true;
    }
    return false;
  }

  if (form) { restoreDraft(); }
  // leaving with a change not saved yet (a reload, a closed tab): send it now; keepalive outlives the page
  window.addEventListener("pagehide", function () { if (timer) { clearTimeout(timer); saveDraft(true); } });

  window.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!questions.length || event.altKey || event.metaKey || event.ctrlKey) { return; }
    if (typing(target)) { return; }
    var key = event.key;
    if (key === "q" || key === "Q") {
      event.preventDefault();
      event.stopImmediatePropagation();
      mark(round[(round.indexOf(active) + 1) % round.length]);
      return;
    }
    if (active && /^[0-9]$/.test(key)) {
      event.preventDefault();
      event.stopImmediatePropagation();
      questionKey(key);
    }
  }, true);

  document.addEventListener("keydown", function (event) {
    var key = event.key;
    var target = event.target;
    if (event.defaultPrevented || event.altKey || event.metaKey) { return; }
    if (target && target.id === "comment") {
      if (key === "Enter" && event.ctrlKey) { event.preventDefault(); form.requestSubmit(selected || null); }
      if (key === "Escape") { target.blur(); }
      return;
    }
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
      else if (task === "ranking" || task === "correction" || task === "spans") {
        form.requestSubmit();
      } else if (status) { status.textContent = "Pick an answer first (see the keys)"; }
      return;
    }
    if (lower === "e" && form && form.getAttribute("data-task") === "correction") {
      event.preventDefault();
      document.getElementById("correction").focus();
      return;
    }
    if (lower === "c" && comment) {
      event.preventDefault();
      comment.focus();
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

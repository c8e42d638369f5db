// Span labels (Winnow feedback): mark character spans of the response with the keyboard or the mouse.
// The response is one plain text node in #span-text (no markup of record text: it is only ever set
// through textContent), so a selection's DOM offsets are text offsets. Offsets are counted in code
// points, as the server's Python strings are (a JS string counts UTF-16 units). The spans live in
// #spans-value as JSON, which the form submits; a change there fires "change" (keys.js saves a draft).
// Written for this app; no library, nothing fetched.
(function () {
  "use strict";
  var box = document.getElementById("span-text");
  var input = document.getElementById("spans-value");
  if (!box || !input) { return; }
  var list = document.getElementById("span-list");
  var empty = document.getElementById("span-empty");
  var status = document.getElementById("selected");
  var labels = JSON.parse(box.getAttribute("data-labels") || "[]");
  var chars = Array.from(box.textContent);
  var n = chars.length;
  var marks = new Array(n).fill(0);  // per character: label number (1…), 0 unmarked
  var anchor = 0, focus = 0;  // the selection is [min, max); the cursor is at focus
  var WORD = /[\p{L}\p{N}_]/u, SPACE = /\s/;

  // tokens: runs of word characters, and every other non-space character on its own
  var tokens = [];
  for (var i = 0; i < n; i++) {
    if (SPACE.test(chars[i])) { continue; }
    var j = i + 1;
    if (WORD.test(chars[i])) { while (j < n && WORD.test(chars[j])) { j++; } }
    tokens.push([i, j]);
    i = j - 1;
  }

  function load() {
    var spans = [];
    try { spans = JSON.parse(input.value || "[]"); } catch (e) { spans = []; }
    spans.forEach(function (s) {
      var k = labels.indexOf(s.label) + 1;
      for (var c = Math.max(0, s.start); c < Math.min(n, s.end); c++) { if (k > 0) { marks[c] = k; } }
    });
  }

  function spans() {
    var out = [];
    for (var c = 0; c < n; c++) {
      if (!marks[c]) { continue; }
      var last = out[out.length - 1];
      if (last && last.end === c && last.label === labels[marks[c] - 1]) { last.end = c + 1; }
      else { out.push({ start: c, end: c + 1, label: labels[marks[c] - 1] }); }
    }
    return out;
  }

  function excerpt(s) {
    var text = chars.slice(s.start, s.end).join("");
    return text.length > 80 ? text.slice(0, 77) + "…" : text;
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function paint() {
    var lo = Math.min(anchor, focus), hi = Math.max(anchor, focus);
    while (box.firstChild) { box.removeChild(box.firstChild); }
    var cursor = null;
    var start = 0;
    for (var c = 1; c <= n; c++) {
      var cut = c === n || marks[c] !== marks[start] || c === lo || c === hi || c === focus;
      if (!cut) { continue; }
      if (start === focus && lo === hi) { cursor = box.appendChild(el("span", "cursor")); }
      var seg = el("span", (marks[start] ? "mark l" + marks[start] : "") + (start >= lo && start < hi ? " sel" : ""),
                   chars.slice(start, c).join(""));
      if (marks[start] && (c === n || marks[c] !== marks[start])) { seg.setAttribute("data-tag", String(marks[start])); }
      box.appendChild(seg);
      start = c;
    }
    if (lo === hi && focus === n) { cursor = box.appendChild(el("span", "cursor")); }
    var target = cursor || box.querySelector(".sel:last-of-type");
    if (target && target.scrollIntoView) { target.scrollIntoView({ block: "nearest" }); }
    paintList();
    if (status) {
      status.textContent = lo < hi ? "Selected “" + excerpt({ start: lo, end: hi }) + "”: press 1–" + labels.length + " to mark it"
        : "Cursor at " + focus + " of " + n + " (Shift+→ selects)";
    }
  }

  function paintList() {
    var all = spans();
    while (list.firstChild) { list.removeChild(list.firstChild); }
    all.forEach(function (s) {
      var item = el("li", "l" + (labels.indexOf(s.label) + 1));
      item.appendChild(el("strong", "", s.label));
      item.appendChild(document.createTextNode(" “" + excerpt(s) + "” (" + s.start + "–" + s.end + ") "));
      var del = el("button", "link-button", "delete");
      del.type = "button";
      del.addEventListener("click", function () { set(s.start, s.end, 0); });
      item.appendChild(del);
      list.appendChild(item);
    });
    if (empty) { empty.hidden = all.length > 0; }
  }

  function save() {
    input.value = JSON.stringify(spans());
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function set(from, to, mark) {
    for (var c = from; c < to; c++) { marks[c] = mark; }
    save();
    paint();
  }

  function selection() {
    // the selection without spaces at its ends; empty: the word at the cursor
    var lo = Math.min(anchor, focus), hi = Math.max(anchor, focus);
    while (lo < hi && SPACE.test(chars[lo])) { lo++; }
    while (hi > lo && SPACE.test(chars[hi - 1])) { hi--; }
    if (lo < hi) { return [lo, hi]; }
    for (var t = 0; t < tokens.length; t++) {
      if (tokens[t][0] <= focus && focus < tokens[t][1]) { return tokens[t]; }
    }
    return null;
  }

  function offsetOf(node, offset) {
    var range = document.createRange();
    range.setStart(box, 0);
    range.setEnd(node, offset);
    return Array.from(range.toString()).length;
  }

  function nextStart(p) { for (var t = 0; t < tokens.length; t++) { if (tokens[t][0] > p) { return tokens[t][0]; } } return n; }
  function nextEnd(p) { for (var t = 0; t < tokens.length; t++) { if (tokens[t][1] > p) { return tokens[t][1]; } } return n; }
  function prevStart(p) { for (var t = tokens.length - 1; t >= 0; t--) { if (tokens[t][0] < p) { return tokens[t][0]; } } return 0; }

  box.addEventListener("mouseup", function () {
    var sel = window.getSelection();
    if (!sel || !sel.rangeCount || !box.contains(sel.anchorNode) || !box.contains(sel.focusNode)) { return; }
    anchor = offsetOf(sel.anchorNode, sel.anchorOffset);
    focus = offsetOf(sel.focusNode, sel.focusOffset);
    sel.removeAllRanges();
    paint();
  });

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT")) { return; }
    if (event.altKey || event.metaKey || event.ctrlKey) { return; }
    var key = event.key, handled = true;
    if (key === "ArrowRight" && event.shiftKey) { focus = nextEnd(focus); }
    else if (key === "ArrowLeft" && event.shiftKey) { focus = prevStart(focus); }
    else if (key === "ArrowRight") { focus = anchor = anchor !== focus ? Math.max(anchor, focus) : nextStart(focus); }
    else if (key === "ArrowLeft") { focus = anchor = anchor !== focus ? Math.min(anchor, focus) : prevStart(focus); }
    else if (key === "]") { focus = Math.min(n, focus + 1); }
    else if (key === "[") { focus = Math.max(0, focus - 1); }
    else if (key === "Escape") { anchor = focus; }
    else if (/^[0-9]$/.test(key) && Number(key) <= labels.length) {
      var range = selection();
      if (!range) { if (status) { status.textContent = "Select some text first (Shift+→)"; } return; }
      anchor = focus = range[1];
      set(range[0], range[1], Number(key));
      return event.preventDefault();
    } else if (key === "Delete" || key === "Backspace") {
      var all = spans(), hit = null;
      all.forEach(function (s) { if (s.start <= focus && focus <= s.end) { hit = s; } });
      hit = hit || all[all.length - 1];
      if (hit) { set(hit.start, hit.end, 0); }
      return event.preventDefault();
    } else { handled = false; }
    if (handled) { event.preventDefault(); paint(); }
  });

  load();
  paint();
})();

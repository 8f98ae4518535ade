// aligncot drill-down pages: data comes as .js files calling AC.put(key, data), loaded on
// demand through <script> tags (works from file://, where fetch() is blocked).
// Page state lives in the URL hash (#m=..&col=..&filter=..&q=..&p=..): links are shareable
// and the back button works.
"use strict";
const AC = {store: {}, waiting: {}, PAGE: 50};

AC.put = function (key, data) {
  AC.store[key] = data;
  (AC.waiting[key] || []).forEach(function (w) { w[0](data); });
  delete AC.waiting[key];
};

AC.load = function (key) {
  return new Promise(function (resolve, reject) {
    if (key in AC.store) { resolve(AC.store[key]); return; }
    const queue = AC.waiting[key] = AC.waiting[key] || [];
    queue.push([resolve, reject]);
    if (queue.length > 1) return;  // already on its way
    const s = document.createElement("script");
    s.src = key + ".js";
    s.onerror = function () {
      (AC.waiting[key] || []).forEach(function (w) { w[1](new Error("cannot load " + s.src)); });
      delete AC.waiting[key];
    };
    document.head.appendChild(s);
  });
};

AC.state = function () {
  return Object.fromEntries(new URLSearchParams(location.hash.slice(1)));
};

AC.setState = function (changes) {
  const st = Object.assign(AC.state(), changes);
  if (!("p" in changes)) st.p = "1";  // a new filter or search starts at page 1
  const params = new URLSearchParams();
  Object.keys(st).forEach(function (k) { if (st[k] !== "" && st[k] != null) params.set(k, st[k]); });
  location.hash = params.toString();
};

AC.cellKey = function (slug, col) { return "data/" + slug + "/" + col; };

AC.index = function (slug, col) { return AC.load(AC.cellKey(slug, col) + "/index"); };

// Full rows [task, doc_id, prompt, generation, extracted, target] of the given row numbers.
AC.rows = function (slug, col, index, numbers) {
  const chunks = Array.from(new Set(numbers.map(function (i) { return Math.floor(i / index.chunk); })));
  return Promise.all(chunks.map(function (c) {
    return AC.load(AC.cellKey(slug, col) + "/chunk-" + String(c).padStart(4, "0"));
  })).then(function () {
    return numbers.map(function (i) {
      const c = Math.floor(i / index.chunk);
      return AC.store[AC.cellKey(slug, col) + "/chunk-" + String(c).padStart(4, "0")][i % index.chunk];
    });
  });
};

AC.allRows = function (slug, col, index) {
  return AC.rows(slug, col, index, Array.from({length: index.n}, function (_, i) { return i; }));
};

// Whether row i of a cell passes a verdict filter.
AC.passes = function (index, i, filter) {
  const st = index.status[i];
  if (filter === "correct") return st === "c";
  if (filter === "wrong") return st === "w";
  if (filter === "invalid") return st === "i";
  if (filter === "incorrect") return st !== "c";
  if (filter === "truncated") return index.trunc[i] === "1";
  return true;
};

AC.matches = function (row, q) {
  if (!q) return true;
  q = q.toLowerCase();
  return row.some(function (v) { return v != null && String(v).toLowerCase().indexOf(q) >= 0; });
};

// Narrow candidate row numbers by the search text (loads the cell's chunks only when searching).
AC.search = function (slug, col, index, candidates, q) {
  if (!q) return Promise.resolve(candidates);
  return AC.allRows(slug, col, index).then(function (rows) {
    return candidates.filter(function (i) { return AC.matches(rows[i], q); });
  });
};

AC.el = function (tag, attrs, text) {
  const e = document.createElement(tag);
  Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
  if (text != null) e.textContent = text;  // textContent, never innerHTML: generations are untrusted
  return e;
};

AC.verdict = {c: "correct", w: "wrong", i: "invalid"};

// Row fields (drilldown.chunk_rows): task, doc_id, prompt, generation, extracted, target, question, options.
// The option letter of a labelled answer ("C) department store" -> "C"), null for other answers.
AC.letterOf = function (label, options) {
  const m = /^([A-Z])\) /.exec(label == null ? "" : String(label));
  return m && m[1].charCodeAt(0) - 65 < options.length ? m[1] : null;
};

// The question first, its options (gold and each model's choice marked), the prompt as sent
// (chat-template turns, instruction) collapsed below: what a reader needs first is the question.
AC.questionCell = function (row, chosen) {
  const td = AC.el("td", {"class": "question"});
  if (row[6] == null) { td.appendChild(AC.el("pre", {}, row[2])); return td; }
  td.appendChild(AC.el("p", {"class": "qtext"}, row[6]));
  const options = row[7] || [], gold = AC.letterOf(row[5], options);
  if (options.length) {
    const list = AC.el("ul", {"class": "opts"});
    options.forEach(function (text, i) {
      const letter = String.fromCharCode(65 + i), marks = [];
      if (letter === gold) marks.push("gold");
      (chosen || []).forEach(function (c) { if (c[1] === letter) marks.push(c[0]); });
      const li = AC.el("li", {"class": letter === gold ? "gold" : ""}, letter + ") " + text);
      if (marks.length) li.appendChild(AC.el("span", {"class": "mark"}, " ← " + marks.join(", ")));
      list.appendChild(li);
    });
    td.appendChild(list);
  }
  const details = AC.el("details", {"class": "prompt"});
  details.append(AC.el("summary", {}, "prompt as sent"), AC.el("pre", {}, row[2]));
  td.appendChild(details);
  return td;
};

// "+11.3" from a fraction, in percentage points.
AC.pp = function (x) { return (x >= 0 ? "+" : "") + (100 * x).toFixed(1); };

AC.options = function (select, items, value) {
  select.textContent = "";
  items.forEach(function (it) {
    const o = AC.el("option", {value: it[0]}, it[1]);
    if (it[0] === value) o.selected = true;
    select.appendChild(o);
  });
};

AC.pager = function (total, page, container) {
  const pages = Math.max(1, Math.ceil(total / AC.PAGE));
  container.textContent = "";
  const prev = AC.el("button", {id: "prev"}, "‹ prev");
  const next = AC.el("button", {id: "next"}, "next ›");
  prev.disabled = page <= 1;
  next.disabled = page >= pages;
  prev.onclick = function () { AC.setState({p: String(page - 1)}); };
  next.onclick = function () { AC.setState({p: String(page + 1)}); };
  container.append(prev, AC.el("span", {id: "page"}, " page " + page + " of " + pages + " "), next);
  return pages;
};

AC.bindControls = function (st) {
  const f = document.getElementById("filter"), q = document.getElementById("q");
  f.value = st.filter || f.options[0].value;
  q.value = st.q || "";
  f.onchange = function () { AC.setState({filter: f.value}); };
  q.onchange = function () { AC.setState({q: q.value}); };
};

AC.fail = function (e) {
  document.getElementById("count").textContent = String(e.message || e);
  document.getElementById("count").setAttribute("data-error", "1");
};

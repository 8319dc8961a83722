"""A tutor page: one self-contained HTML file that asks for each step's number before showing the working.

The figure (inline SVG, every node and edge keyed), then one step at a time in the document's order.
The page's data is one JSON blob (each step: its id, quantity, exact value, the values as rounded by
hand, the likeliest mistakes and what they give, the figure's keys it is about, and its working as
MathML), printed from the tutor page's records; a small inline script, no framework and nothing
fetched, moves between steps, judges a typed number at the decimals typed, and keeps progress in
localStorage. The script compares decimal strings; it computes no mathematics of the network.
"""

from __future__ import annotations

import hashlib
import json

from symbackprop.printers.html import PAGE_STYLE, STYLE, SCOPE, HtmlPrinter
from symbackprop.printers.math import text_formula, unicode_formula
from symbackprop.printers.svg import svg_picture
from symbackprop.solution.model import Section
from symbackprop.solution.tutor import Opening, Question, TutorPage, WrongAnswer

_TUTOR_STYLE = """
.tutor-bar { display: flex; flex-wrap: wrap; gap: .5em; align-items: center; margin: 1rem 0; }
.tutor-bar .where { margin-right: auto; color: var(--muted); }
.symbackprop button { font: inherit; font-size: .95rem; padding: .3em .8em; border: 1px solid #8a8a8a;
  border-radius: 4px; background: #f6f6f6; cursor: pointer; }
.symbackprop button:focus-visible, .symbackprop input:focus-visible { outline: 3px solid #1a73e8; outline-offset: 2px; }
.symbackprop input { font: inherit; width: 14em; padding: .2em .4em; }
.question { border: 1px solid var(--rule); border-radius: 6px; padding: .5rem 1.2rem 1rem; }
.symbackprop .question h2 { margin-top: .5rem; }
.spoken { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
.feedback { min-height: 1.5em; margin: .8em 0; }
.feedback.right { color: #1a7f37; }
.feedback.wrong { color: #b3261e; }
.feedback ol { color: var(--ink); }
svg.network .lit { stroke: #D9480F; stroke-width: 3.5; }
svg.network [tabindex], svg.network [data-edge] { cursor: pointer; }
svg.network text { pointer-events: none; }
svg.network [tabindex]:focus-visible { outline: 3px solid #1a73e8; outline-offset: 1px; }
#opened { min-height: 1.5em; margin: 0 0 .5em; color: var(--muted); text-align: center; }
""".strip()

_SCRIPT = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("tutor-data").textContent);
  var questions = data.questions, store = null;
  /* A wrong answer is [value, wording, formula, ...]: the wording's pieces with the formulas between them. */
  questions.forEach(function (q) {
    q.mistakes = q.mistakes.map(function (m) {
      var pieces = data.wordings[m[1]], text = pieces[0];
      for (var k = 1; k < pieces.length; k++) { text += m[k + 1] + pieces[k]; }
      return { value: m[0], description: text };
    });
  });
  try { store = window.localStorage; } catch (e) { store = null; }
  var $ = function (id) { return document.getElementById(id); };
  var state = load();

  function load() {
    var saved = null;
    try { saved = JSON.parse(store.getItem(data.storage)); } catch (e) { saved = null; }
    if (!saved || typeof saved !== "object") { saved = {}; }
    if (!saved.answers || typeof saved.answers !== "object") { saved.answers = {}; }
    if (typeof saved.current !== "number" || !(saved.current >= 0 && saved.current < questions.length)) {
      saved.current = 0;
    }
    return saved;
  }
  function save() { try { store.setItem(data.storage, JSON.stringify(state)); } catch (e) { /* private mode */ } }

  /* Decimal strings, compared exactly as scaled integers. */
  var DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?$/;
  function decimals(text) { var dot = text.indexOf("."); return dot < 0 ? 0 : text.length - dot - 1; }
  function scaled(text, places) {
    var m = DECIMAL.exec(text), fraction = m[3] || "";
    var whole = BigInt((m[2] || "0") + fraction + "0".repeat(places - fraction.length));
    return m[1] === "-" ? -whole : whole;
  }
  /* Right at the decimals typed: within half a unit of the last typed place (a tie either way). */
  function roundsTo(value, typed) {
    var places = decimals(typed), common = Math.max(decimals(value), places);
    var gap = scaled(value, common) - scaled(typed, common);
    if (gap < 0n) { gap = -gap; }
    return 2n * gap <= 10n ** BigInt(common - places);
  }
  function normal(text) { return text.trim().replace(/\u2212/g, "-"); }
  function isNumber(text) { return DECIMAL.test(text) && /\d/.test(text); }

  function judge(q, typed) {
    if (roundsTo(q.exact, typed)) { return { right: true }; }
    var hand = q.by_hand[String(decimals(typed))];
    if (hand !== undefined && roundsTo(hand, typed)) { return { right: true, byHand: true }; }
    var given = Number(typed), places = decimals(typed), right = rounded(q.exact, places);
    /* As check: never a mistake that gives the right value at the digits typed; the mistakes that give
       what was typed, or else only the closest of the others. */
    var ranked = q.mistakes.filter(function (m) { return rounded(m.value, places) !== right; }).map(function (m) {
      return { mistake: m, exact: roundsTo(m.value, typed),
               distance: Math.abs(Number(m.value) - given) / Math.max(Math.abs(given), 1e-300) };
    });
    ranked.sort(function (a, b) { return (b.exact - a.exact) || (a.distance - b.distance); });
    var reproducing = ranked.filter(function (r) { return r.exact; });
    return { right: false, likely: reproducing.length ? reproducing.slice(0, data.shown) : ranked.slice(0, 1),
             reproduced: reproducing.length > 0 };
  }
  /* `text` rounded half-up (away from zero) to `places` decimals, as a scaled integer's digits. */
  function rounded(text, places) {
    var m = DECIMAL.exec(text), fraction = (m[3] || "").slice(0, places + 1), negative = m[1] === "-";
    var tenfold = BigInt((m[2] || "0") + fraction + "0".repeat(places + 1 - fraction.length));
    var whole = (tenfold + 5n) / 10n;
    return (negative && whole !== 0n ? "-" : "") + whole.toString();
  }

  function feedback(q, typed) {
    var box = $("feedback");
    box.textContent = "";
    if (typed === undefined) { box.className = "feedback"; return; }
    if (!isNumber(typed)) {
      box.className = "feedback wrong";
      box.textContent = "Type a decimal number, such as 0.593.";
      return;
    }
    var verdict = judge(q, typed);
    box.className = "feedback " + (verdict.right ? "right" : "wrong");
    if (verdict.right) {
      box.textContent = "Right" + (verdict.byHand ? ", with every intermediate rounded to " + decimals(typed) +
        " decimals as by hand." : ".");
      return;
    }
    var head = document.createElement("p");
    head.textContent = "Not " + typed + ". " + (!verdict.likely.length ? "" : verdict.reproduced ?
      "The likeliest mistakes:" : "No likely mistake reproduces your number; the closest:");
    box.appendChild(head);
    var list = document.createElement("ol");
    verdict.likely.forEach(function (item) {
      var entry = document.createElement("li");
      entry.className = "mistake";
      entry.textContent = item.mistake.description + ": gives " + item.mistake.value +
        (item.exact ? ", which is yours at your digits" : "");
      list.appendChild(entry);
    });
    if (verdict.likely.length) { box.appendChild(list); }
  }

  function highlight(nodes, edges) {
    var lit = {};
    nodes.forEach(function (key) { lit["node " + key] = true; });
    edges.forEach(function (key) { lit["edge " + key] = true; });
    document.querySelectorAll("svg.network [data-node]").forEach(function (el) {
      el.classList.toggle("lit", !!lit["node " + el.getAttribute("data-node")]);
    });
    document.querySelectorAll("svg.network [data-edge]").forEach(function (el) {
      el.classList.toggle("lit", !!lit["edge " + el.getAttribute("data-edge")]);
    });
  }

  function show() {
    var q = questions[state.current], answer = state.answers[q.id] || {};
    $("where").textContent = "Step " + (state.current + 1) + " of " + questions.length;
    $("section").textContent = q.section;
    $("answer-label").textContent = "Your value of " + q.text;
    $("answer").value = answer.typed || "";
    feedback(q, answer.typed);
    $("work").innerHTML = q.work;
    $("work").querySelectorAll("math").forEach(function (m) { m.setAttribute("displaystyle", "true"); });
    $("quantity").innerHTML = "<math>" + $("work").querySelector("math.lhs").innerHTML + "</math>";
    $("exact").textContent = "Exact value: " + q.exact;
    $("working").hidden = !answer.revealed;
    $("reveal").setAttribute("aria-expanded", String(!!answer.revealed));
    $("previous").disabled = state.current === 0;
    $("next").disabled = state.current === questions.length - 1;
    $("opened").textContent = "";
    highlight(q.nodes, q.edges);
  }

  /* Clicking a weight or a node (or Enter or Space on it): its paths to the loss, as the engine lists them,
     and the first step of its gradient's derivation. */
  function open(part) {
    var index = -1, figure = data.figure;
    questions.forEach(function (q, k) { if (q.id === part.question) { index = k; } });
    if (index >= 0) { state.current = index; save(); show(); }
    highlight(part.nodes.map(function (k) { return figure.nodes[k]; }),
              part.edges.map(function (k) { return figure.edges[k]; }));
    $("opened").textContent = "Paths from " + part.label + " to the loss" + (index >= 0 ?
      "; the derivation of its gradient starts at step " + (index + 1) + "." : part.edges.length ?
      " (an input: no gradient is derived for it)." : ": none, so no gradient is derived for it.");
  }
  var openings = data.openings || {};
  document.querySelectorAll("svg.network [data-node], svg.network [data-label], svg.network [data-edge]").forEach(function (el) {
    var node = el.getAttribute("data-node"), part = openings[node !== null ? "node " + node :
      "edge " + (el.getAttribute("data-label") || el.getAttribute("data-edge"))];
    if (typeof part === "string") { part = openings[part]; }  /* shows what another part shows */
    if (!part) { return; }
    if (!el.hasAttribute("data-edge")) {  /* a weight's label or a node: a control; the edge's line is only clickable */
      el.setAttribute("tabindex", "0");
      el.setAttribute("role", "button");
      el.setAttribute("aria-label", part.label + ": light its paths to the loss" +
        (part.question ? " and open its gradient's derivation" : ""));
    }
    el.addEventListener("click", function () { open(part); });
    el.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); open(part); }
    });
  });
  function move(by) {
    var next = state.current + by;
    if (next < 0 || next >= questions.length) { return; }
    state.current = next;
    save();
    show();
  }
  function answer() { var q = questions[state.current]; return state.answers[q.id] || (state.answers[q.id] = {}); }

  $("ask").addEventListener("submit", function (event) {
    event.preventDefault();
    answer().typed = normal($("answer").value);
    save();
    feedback(questions[state.current], answer().typed);
  });
  $("reveal").addEventListener("click", function () { answer().revealed = true; save(); show(); });
  $("previous").addEventListener("click", function () { move(-1); });
  $("next").addEventListener("click", function () { move(1); });
  $("reset").addEventListener("click", function () {
    try { store.removeItem(data.storage); } catch (e) { /* nothing kept */ }
    state = load();
    show();
  });
  document.addEventListener("keydown", function (event) {
    var tag = event.target.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || event.altKey || event.ctrlKey || event.metaKey) { return; }
    if (event.key === "ArrowLeft") { move(-1); event.preventDefault(); }
    if (event.key === "ArrowRight") { move(1); event.preventDefault(); }
  });
  show();
})();
""".strip()


class TutorPrinter(HtmlPrinter):
    """A `TutorPage` as a whole HTML page; the steps' working is printed as the HTML solution prints it."""

    SHOWN = 3
    """How many likely mistakes the page lists for a wrong number, as `check` does."""
    DISPLAY = ""
    """The script sets a step's formulas in display style as it shows them: 5,161 attributes fewer in the data
    of three layers of 8."""

    def doprint(self, page: TutorPage) -> str:  # type: ignore[override]
        solution = page.solution
        self.numerals = solution.numerals
        data = self.data(page)
        blob = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
        figure = "" if solution.figure is None else (
            f"<figure>\n{svg_picture(solution.figure, solution.figure.title, keyed=True)}\n"
            f"<figcaption>{self.title(solution.figure)}</figcaption>\n</figure>")
        title = self.text(f"Tutor: {solution.title}")
        clicking = " Click a weight or a node in the figure (or Tab to it and press Enter) to light its paths to " \
                   "the loss and open its gradient's derivation." if page.openings else ""
        return "\n".join([
            "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{title}</title>",
            f"<style>\n{PAGE_STYLE}\n{STYLE}\n{_TUTOR_STYLE}\n</style>",
            "</head>", "<body>", f'<main class="{SCOPE}">', f"<h1>{title}</h1>",
            "<p>Work out each step, type its number and check it; then reveal the working. "
            f"Keys: \u2190 and \u2192 move between steps.{clicking}</p>",
            figure,
            '<p id="opened" aria-live="polite"></p>',
            '<div class="tutor-bar"><span id="where" class="where" aria-live="polite"></span>'
            '<button type="button" id="previous">\u2190 Previous</button>'
            '<button type="button" id="next">Next \u2192</button>'
            '<button type="button" id="reset">Reset progress</button></div>',
            '<section class="question" aria-labelledby="section"><h2 id="section"></h2>',
            '<p>Find <span id="quantity"></span></p>',
            '<form id="ask" autocomplete="off"><label id="answer-label" class="spoken" for="answer"></label>'
            '<input id="answer" type="text" inputmode="decimal" spellcheck="false"> '
            '<button type="submit" id="check">Check</button></form>',
            '<div id="feedback" class="feedback" role="status" aria-live="polite"></div>',
            '<button type="button" id="reveal" aria-controls="working" aria-expanded="false">'
            "Reveal formula, numbers and result</button>",
            '<div id="working" hidden><div id="work"></div><p id="exact"></p></div>',
            "</section>",
            "<noscript><p>The tutor needs JavaScript; the worked solution itself is "
            "<code>symbackprop solve -o page.html</code>.</p></noscript>",
            f'<script type="application/json" id="tutor-data">{blob}</script>',
            f"<script>\n{_SCRIPT}\n</script>",
            "</main>", "</body>", "</html>", "",
        ])

    def data(self, page: TutorPage) -> dict:
        """The page's data: its storage key (the spec's name and a hash of the questions), the wordings of the
        wrong answers, and every question."""
        self.wordings: dict[tuple[str, ...], int] = {}
        questions = [self.question(q) for q in page.questions]
        wordings = [list(pieces) for pieces in self.wordings]
        digest = hashlib.sha256(json.dumps([wordings, questions], sort_keys=True).encode()).hexdigest()[:16]
        return {"title": page.solution.title, "name": page.name, "storage": f"symbackprop-tutor:{page.name}:{digest}",
                "shown": self.SHOWN, "wordings": wordings, "questions": questions, **self.openings(page)}

    @staticmethod
    def openings(page: TutorPage) -> dict:
        """The figure's node and edge keys, and what clicking each part shows: its label, its paths (the
        positions of their nodes and edges in those lists) and the question its gradient's derivation starts
        at; a part that shows what another does (a bias's edge, its node) names that part instead."""
        if not page.openings:
            return {}
        figure = page.solution.figure
        nodes, edges = [n.key for n in figure.nodes], [f"{e.source} {e.target}" for e in figure.edges]
        node_at, edge_at = {key: k for k, key in enumerate(nodes)}, {key: k for k, key in enumerate(edges)}
        openings: dict[str, dict | str] = {}
        alike: dict[str, str] = {}
        for o in page.openings:
            shown = {"label": unicode_formula(o.label), "nodes": [node_at[key] for key in o.nodes],
                     "edges": [edge_at[f"{source} {target}"] for source, target in o.edges], "question": o.question}
            key = f"{o.part} {o.key}"
            openings[key] = alike.setdefault(json.dumps(shown), key)
            if openings[key] == key:
                openings[key] = shown
        return {"figure": {"nodes": nodes, "edges": edges}, "openings": openings}

    def question(self, q: Question) -> dict:
        step = q.step
        return {
            "id": q.key, "section": self.heading(q.section), "text": text_formula(step.symbol),
            "exact": q.exact, "result": step.result,
            "by_hand": {str(places): value for places, value in q.by_hand.items()},
            "mistakes": [self.wrong(w) for w in q.wrong],
            "nodes": list(q.nodes), "edges": [f"{source} {target}" for source, target in q.edges],
            "work": self._print(step),
        }

    @staticmethod
    def heading(section: Section) -> str:
        """A section's title in plain Unicode, with its symbol: Gradient for w₅."""
        return section.title if section.symbol is None else f"{section.title} {unicode_formula(section.symbol)}"

    def wrong(self, answer: WrongAnswer) -> list:
        """[value, wording, formula, ...]: the description's words (shared by every answer worded alike, as
        "... where the path from i1 to h1,1 goes through ...") by their index in `wordings`, then its formulas."""
        pieces, formulas = [""], []
        for part in answer.description.parts:
            if isinstance(part, str):
                pieces[-1] += part
            else:
                formulas.append(text_formula(part))
                pieces.append("")
        wording = self.wordings.setdefault(tuple(pieces), len(self.wordings))
        return [answer.value, wording, *formulas]


def tutor_html(page: TutorPage) -> str:
    """The tutor page as one HTML file's text."""
    return TutorPrinter().doprint(page)


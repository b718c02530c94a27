"""The web edition in a real browser: measured at phone and desktop widths, checked by axe-core.

Each check loads a copy of book.html, with axe-core and a probe script added, into headless
Chromium, in a frame as wide as the screen measured (a headless window is never narrower
than 500 px). The probe measures the page as the browser laid it out (overflow, the smallest
text, figure text included, the lines, the headings, the targets of links), runs axe-core,
and posts what it found to the frame's page, which writes it down for --dump-dom.
"""

from __future__ import annotations

import html
import itertools
import json
import re
import shutil
import subprocess

import pytest
from conftest import checker_script

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed here (Debian: apt install chromium)"
)

#: No text, the figures' included, is drawn smaller than this (CSS pixels).
SMALLEST_TEXT = 12
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]

PROBE = r"""
// Measures the web edition in the browser that shows it, then runs axe-core; sends all it
// found as JSON to the page around it.
(function () {
  "use strict";

  function visible(element) {
    const style = getComputedStyle(element);
    return style.display !== "none" && style.visibility !== "hidden" && element.getClientRects().length > 0;
  }

  // Text as large as it is drawn: an SVG's text scaled by its drawing, HTML text by CSS.
  function drawnSize(element) {
    const size = parseFloat(getComputedStyle(element).fontSize);
    if (element instanceof SVGElement && element.getScreenCTM) {
      const matrix = element.getScreenCTM();
      return size * Math.hypot(matrix.a, matrix.b);
    }
    return size;
  }

  function smallestText() {
    let smallest = { size: Infinity, text: "" };
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const element = node.parentElement;
      if (!node.data.trim() || !element || !visible(element)) continue;
      if (element.closest(".visually-hidden, title")) continue;
      const size = drawnSize(element);
      if (size < smallest.size) smallest = { size: size, text: node.data.trim().slice(0, 40) };
    }
    for (const marker of document.querySelectorAll(".page-break")) {  // generated text
      const style = getComputedStyle(marker, "::before");
      const size = parseFloat(style.fontSize);
      if (style.content !== "none" && visible(marker) && size < smallest.size) {
        smallest = { size: size, text: "page marker " + marker.id };
      }
    }
    return smallest;
  }

  // Characters of each full line (a paragraph's last line left out) of the chapters' paragraphs.
  function charactersPerLine() {
    const counts = [];
    const paragraphs = Array.from(document.querySelectorAll("main section.chapter > p")).slice(0, 60);
    for (const paragraph of paragraphs) {
      const lines = new Map();
      const walker = document.createTreeWalker(paragraph, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (let i = 0; i < node.data.length; i++) {
          const range = document.createRange();
          range.setStart(node, i);
          range.setEnd(node, i + 1);
          const rect = range.getClientRects()[0];
          if (!rect) continue;
          const top = Math.round(rect.top / 4);
          lines.set(top, (lines.get(top) || 0) + 1);
        }
      }
      const full = Array.from(lines.entries()).sort((a, b) => a[0] - b[0]).slice(0, -1);
      for (const [, count] of full) counts.push(count);
    }
    counts.sort((a, b) => a - b);
    return { median: counts.length ? counts[Math.floor(counts.length / 2)] : 0, lines: counts.length };
  }

  function headings() {
    return Array.from(document.querySelectorAll("h1, h2, h3, h4, h5, h6")).filter(visible)
      .map((h) => [Number(h.tagName[1]), h.textContent.trim().replace(/\s+/g, " ").slice(0, 60)]);
  }

  function figures() {
    return Array.from(document.querySelectorAll("figure.figure")).map((figure) => ({
      id: figure.id,
      drawing: visible(figure.querySelector("svg")),
      data: Array.from(figure.querySelectorAll(".figure-data")).some(visible),
      dataText: Array.from(figure.querySelectorAll(".figure-data"))
        .map((data) => data.innerText.replace(/\s+/g, " ").trim()).join(" "),
    }));
  }

  function contentsTargets() {
    const heights = Array.from(document.querySelectorAll("nav.contents a"))
      .map((link) => link.getBoundingClientRect().height);
    return { count: heights.length, smallest: Math.min(...heights) };
  }

  // Where the printed pages' markers stand: beside the column, or inside it without covering text.
  function pageMarkers() {
    const column = document.querySelector("main").getBoundingClientRect();
    return Array.from(document.querySelectorAll(".page-break")).filter(visible).map((marker) => {
      const rect = marker.getBoundingClientRect();
      return { id: marker.id, left: rect.left, right: rect.right,
               columnLeft: column.left, columnRight: column.right,
               label: getComputedStyle(marker, "::before").content };
    });
  }

  function target() {
    const id = decodeURIComponent(location.hash.slice(1));
    const element = id && document.getElementById(id);
    if (!element) return null;
    const marked = element.matches(":empty") ? element.parentElement : element;
    return { id: id, tag: marked.tagName.toLowerCase(), background: getComputedStyle(marked).backgroundColor,
             pageBackground: getComputedStyle(document.documentElement).backgroundColor,
             inView: Math.abs(element.getBoundingClientRect().top) < innerHeight };
  }

  // To the frame page around this one (whose width is the screen's), which writes it down.
  // The colours the figures' drawings are painted in, and the system colours of this screen.
  function drawingColours() {
    const system = {};
    for (const name of ["CanvasText", "Canvas", "GrayText"]) {
      const probe = document.createElement("span");
      probe.style.color = name;
      document.body.appendChild(probe);
      system[name] = getComputedStyle(probe).color;
      probe.remove();
    }
    const painted = new Set();
    for (const shape of document.querySelectorAll("figure .figure-svg :is(line, circle, rect, path, text)")) {
      const style = getComputedStyle(shape);
      // A line has no inside: its fill is never painted.
      const paints = shape.localName === "line" ? [style.stroke] : [style.fill, style.stroke];
      for (const paint of paints) if (paint !== "none") painted.add(paint);
    }
    return { forced: matchMedia("(forced-colors: active)").matches, system: system,
             painted: Array.from(painted) };
  }

  function report(result) {
    parent.postMessage(JSON.stringify(result), "*");
  }

  window.addEventListener("load", () => document.fonts.ready.then(function () {
    const root = document.documentElement;
    const measured = {
      width: innerWidth, scrollWidth: Math.max(root.scrollWidth, document.body.scrollWidth),
      smallestText: smallestText(), lines: charactersPerLine(), headings: headings(), figures: figures(),
      contents: contentsTargets(), pageMarkers: pageMarkers(), target: target(), colours: drawingColours(),
      fonts: Array.from(document.fonts).filter((face) => face.status === "loaded")
        .map((face) => `${face.family} ${face.weight} ${face.style}`),
      bodyFont: getComputedStyle(document.body).fontFamily,
    };
    const rules = { runOnly: { type: "tag", values: AXE_TAGS } };
    window.axe.run(document, rules).then((results) => {
      measured.violations = results.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + ": " + n.failureSummary),
      }));
      measured.passes = results.passes.length;
      report(measured);
    }, (error) => report({ error: String(error) }));
  }));
})();
"""


#: The screen: a frame of the width measured; the probe's message is written into the page.
FRAME = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>probe</title></head>
<body style="margin: 0">
<iframe src="{src}" title="book" style="border: 0; width: {width}px; height: 2000px"></iframe>
<script>addEventListener("message", (event) => {{
  const out = document.createElement("pre"); out.id = "probe-result"; out.textContent = event.data;
  document.body.appendChild(out); }});</script></body></html>
"""


@pytest.fixture(scope="module")
def web(every_product):
    """The real book's web edition, from the session's build of every product."""
    return every_product / "book.html"


@pytest.fixture(scope="module")
def probed_page(web, tmp_path_factory):
    """A copy of book.html with axe-core and the probe at the end of its body."""
    axe = checker_script("axe-core", "axe.min.js").read_text(encoding="utf-8")
    page = web.read_text(encoding="utf-8")
    probe = PROBE.replace("AXE_TAGS", json.dumps(AXE_TAGS))
    scripts = f"<script>{axe}</script>\n<script>{probe}</script>\n</body>"
    copy = tmp_path_factory.mktemp("probe") / "book.html"
    copy.write_text(page.replace("</body>", scripts, 1), encoding="utf-8")
    return copy


@pytest.fixture(scope="module")
def measure(probed_page, tmp_path_factory):
    """measure(width, fragment="", *flags): what the probe found at that width (run once each)."""
    found = {}

    def run(width: int, fragment: str = "", *flags: str) -> dict:
        key = (width, fragment, *flags)
        if key not in found:
            found[key] = probe(
                probed_page, tmp_path_factory.mktemp("screen"), width, fragment, flags
            )
        return found[key]

    return run


def probe(page, folder, width: int, fragment: str = "", flags=()) -> dict:
    """Load the probed page in a frame width pixels wide; what its probe reported.

    flags: more of Chromium's options, e.g. --force-high-contrast (forced colours).
    """
    frame = folder / "frame.html"
    frame.write_text(
        FRAME.format(width=width, src=html.escape(page.as_uri() + fragment)), encoding="utf-8"
    )
    dom = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={folder / 'profile'}",
            *flags,
            f"--window-size={max(width, 500) + 20},2000",
            "--virtual-time-budget=20000",
            "--dump-dom",
            frame.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    ).stdout
    result = re.search(r'<pre id="probe-result">(.*?)</pre>', dom, re.DOTALL)
    assert result, "the probe reported nothing: " + dom[-2000:]
    measured = json.loads(html.unescape(result[1]))
    assert "error" not in measured, measured
    return measured


def test_the_book_is_set_in_its_own_typefaces(measure):
    found = measure(1280)
    assert found["bodyFont"].startswith('"Source Serif Pro"')
    assert (
        "Source Serif Pro 400 normal" in found["fonts"]
        and "Source Sans Pro 700 normal" in found["fonts"]
    )


@pytest.mark.parametrize("width", [320, 390])
def test_a_phone_never_scrolls_sideways(measure, width):
    found = measure(width)
    assert found["width"] == width
    assert found["scrollWidth"] <= width, (
        f"the page is {found['scrollWidth']} px wide on a {width} px screen"
    )


@pytest.mark.parametrize("width", [320, 390, 1280])
def test_no_text_is_smaller_than_12_px(measure, width):
    smallest = measure(width)["smallestText"]
    assert smallest["size"] >= SMALLEST_TEXT - 0.01, smallest


def test_on_a_phone_the_figures_are_lists_and_tables(measure):
    figures = measure(390)["figures"]
    assert len(figures) == 4  # the timeline, the bar chart and two maps
    for figure in figures:
        assert figure["data"] and not figure["drawing"], figure
    timeline, chart, camps, abroad = figures
    assert "1 Dec. 1934 Sergei Kirov is murdered in Leningrad" in timeline["dataText"]
    assert "1937 353,074" in chart["dataText"] and "people shot" in chart["dataText"]
    assert "Kolyma (Sevvostlag)" in camps["dataText"] and "Moscow" in abroad["dataText"]


def test_on_a_desktop_the_figures_are_drawn(measure):
    for figure in measure(1280)["figures"]:
        assert figure["drawing"] and not figure["data"], figure


def test_desktop_lines_hold_60_to_75_characters(measure):
    lines = measure(1280)["lines"]
    assert lines["lines"] > 100
    assert 60 <= lines["median"] <= 75, lines


@pytest.mark.parametrize("width", [390, 1280])
def test_the_heading_outline_has_one_title_and_no_skipped_level(measure, width):
    headings = measure(width)["headings"]
    assert [level for level, _ in headings].count(1) == 1 and headings[0][0] == 1
    assert headings[1] == [2, "Contents"]
    for (before, text_before), (level, text) in itertools.pairwise(headings):
        assert level <= before + 1, f"{text!r} (h{level}) follows {text_before!r} (h{before})"
    levels = {text: level for level, text in headings}
    assert levels["Introduction"] == 2 and levels["Index"] == 2 and levels["A"] == 3


@pytest.mark.parametrize("width", [390, 1280])
def test_contents_links_are_targets_at_least_24_px_tall(measure, width):
    contents = measure(width)["contents"]
    assert contents["count"] > 20 and contents["smallest"] >= 24, contents


def test_printed_pages_are_marked_beside_the_column_on_a_desktop(measure):
    markers = measure(1280)["pageMarkers"]
    assert len(markers) > 20
    for marker in markers:
        assert marker["right"] <= marker["columnLeft"], marker
        assert marker["label"].startswith('"p. "') or marker["label"].startswith('"p.'), marker


def test_printed_pages_are_marked_inside_the_column_on_a_phone(measure):
    markers = measure(390)["pageMarkers"]
    assert len(markers) > 20
    for marker in markers:
        assert (
            marker["columnLeft"] <= marker["left"] and marker["right"] <= marker["columnRight"]
        ), marker


def test_an_index_link_lands_on_a_marked_place(measure, web):
    anchor = re.search(
        r'<li class="index-entry"[^>]*>.*?<a href="#([^"]+)"', web.read_text(), re.DOTALL
    )[1]
    landed = measure(1280, "#" + anchor)["target"]
    assert landed and landed["inView"], landed
    assert landed["background"] not in (landed["pageBackground"], "rgba(0, 0, 0, 0)"), landed


def test_in_forced_colours_the_drawings_take_the_screens_colours(measure):
    normal, forced = measure(1280)["colours"], measure(1280, "", "--force-high-contrast")["colours"]
    assert not normal["forced"] and forced["forced"]
    assert "rgb(122, 31, 31)" in normal["painted"]  # the book's red, where colours are the book's
    assert set(forced["painted"]) <= set(forced["system"].values()), forced


@pytest.mark.parametrize("width", [390, 1280])
def test_axe_core_finds_no_violation(measure, width):
    found = measure(width)
    assert found["passes"] > 20
    assert found["violations"] == [], json.dumps(found["violations"], indent=1)

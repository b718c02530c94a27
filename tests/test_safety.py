"""A locked-down build: bad sources fail with path:line, fetch nothing and embed nothing."""

from __future__ import annotations

import hashlib
import http.server
import os
import struct
import subprocess
import sys
import threading
import zlib
from pathlib import Path

import pytest
from conftest import fails, hashes, write
from pypdf import PdfReader

from bookpress.cli import main

PASSWD = Path("/etc/passwd")


@pytest.fixture
def listener():
    """A web server on the loopback address that counts the requests it gets."""
    requests = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *arguments):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", requests
    server.shutdown()
    server.server_close()


def chapter(body: str) -> str:
    return "---\ntitle: One\n---\n\nAn opening.\n\n" + body + "\n"  # the body starts on line 7


def assert_no_leak(project: Path):
    """Whatever PDF build/ holds carries no forbidden bytes and no embedded file."""
    secret = PASSWD.read_bytes()[:40]
    for pdf in (project / "build").rglob("*.pdf"):
        data = pdf.read_bytes()
        assert secret not in data
        if data.startswith(b"%PDF-1.7 the last good"):
            continue
        reader = PdfReader(pdf)
        assert "/EmbeddedFiles" not in reader.trailer["/Root"].get("/Names", {})
        for page in reader.pages:
            for annotation in page.get("/Annots", []):
                assert annotation.get_object().get("/Subtype") != "/FileAttachment"


HOSTILE = [  # (case, the chapter's body from line 7, what the build says)
    (
        "passwd as a Markdown image",
        "![secret](file:///etc/passwd)",
        "chapters/01-first.md:7: the image 'file:///etc/passwd' is not a file in assets/",
    ),
    (
        "passwd as a raw HTML image",
        '<img src="file:///etc/passwd" alt="secret">',
        "chapters/01-first.md:7: 'file:///etc/passwd' is not a file in assets/",
    ),
    (
        "passwd as a raw HTML attachment",
        '<a rel="attachment" href="file:///etc/passwd">notes</a>',
        "chapters/01-first.md:7: attachments (rel=attachment) are not allowed",
    ),
    (
        "passwd as a link element",
        '<link rel="attachment" href="file:///etc/passwd">',
        "chapters/01-first.md:7: <link> is not allowed in a chapter",
    ),
    (
        "passwd as an attachment through an attribute list",
        "[notes](file:///etc/passwd){: rel=attachment }",
        "chapters/01-first.md:7: attachments (rel=attachment) are not allowed",
    ),
    (
        "passwd as an image through an attribute list",
        "A picture.\n{: src=file:///etc/passwd }",
        "chapters/01-first.md:8: 'file:///etc/passwd' is not a file in assets/",
    ),
    (
        "a ../ escape",
        "![secret](../assets/../../../../../../etc/passwd)",
        "chapters/01-first.md:7: the image '../assets/../../../../../../etc/passwd' is not a file "
        "in assets/",
    ),
    (
        "/dev/zero",
        "![zeros](/dev/zero)",
        "chapters/01-first.md:7: the image '/dev/zero' is not a file in assets/",
    ),
    (
        "a base element",
        '<base href="file:///etc/">',
        "chapters/01-first.md:7: <base> is not allowed in a chapter",
    ),
    (
        "inline SVG with an image",
        '<svg><image href="file:///etc/passwd"/></svg>',
        "chapters/01-first.md:7: <svg> is not allowed in a chapter",
    ),
    (
        "a script",
        "<script>alert(1)</script>",
        "chapters/01-first.md:7: <script> is not allowed in a chapter",
    ),
    (
        "an event handler",
        '<p onclick="alert(1)">x</p>',
        "chapters/01-first.md:7: scripts (on...= attributes)",
    ),
    (
        "an iframe",
        '<iframe src="file:///etc/passwd"></iframe>',
        "chapters/01-first.md:7: <iframe> is not allowed",
    ),
    (
        "a style element",
        "<style>p { background: url(file:///etc/passwd) }</style>",
        "chapters/01-first.md:7: <style> is not allowed in a chapter",
    ),
    (
        "a picture with no alt text",
        "![](../assets/dot.png)",
        "chapters/01-first.md:7: the image '../assets/dot.png' has no alt text",
    ),
    (
        "a missing picture",
        "![A dot](../assets/dott.png)",
        "chapters/01-first.md:7: the image '../assets/dott.png' does not exist",
    ),
]


@pytest.mark.parametrize("case, body, message", HOSTILE, ids=[case for case, _, _ in HOSTILE])
def test_hostile_or_mistaken_html_is_refused(broken, capsys, case, body, message):
    _dot(broken)
    write(broken, "01-first.md", chapter(body))
    err = fails(broken, capsys)
    assert message in err
    assert_no_leak(broken)


def test_http_to_the_loopback_address_is_never_requested(broken, capsys, listener):
    url, requests = listener
    write(
        broken,
        "01-first.md",
        chapter(f'![a](http://{url[7:]}/a.png)\n\n<img src="{url}/b.png" alt="b">'),
    )
    err = fails(broken, capsys)
    assert "chapters/01-first.md:7: the image 'http://127.0.0.1" in err
    assert "chapters/01-first.md:9:" in err
    assert requests == []


def test_a_symlink_out_of_assets_is_refused(broken, capsys):
    (broken / "assets" / "map.png").symlink_to(PASSWD)
    write(broken, "01-first.md", chapter("![A map](../assets/map.png)"))
    assert (
        "chapters/01-first.md:7: the image '../assets/map.png' is not a file in assets/"
        in fails(broken, capsys)
    )
    assert_no_leak(broken)


def test_an_svg_picture_that_points_outside_is_refused(broken, capsys, listener):
    url, requests = listener
    (broken / "assets" / "map.svg").write_text(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        f'<image href="file:///etc/passwd" width="5" height="5"/><image href="{url}/x.png"/></svg>'
    )
    write(broken, "01-first.md", chapter("![A map](../assets/map.svg)"))
    assert (
        "chapters/01-first.md:7: the picture '../assets/map.svg' refers to another file"
        in fails(broken, capsys)
    )
    assert requests == []
    assert_no_leak(broken)


def test_the_fetcher_refuses_what_slips_past_the_checks(project, capsys, listener):
    # A stylesheet of the project's own asks for a forbidden file: layout fails the build.
    url, requests = listener
    (project / "layout" / "book.css").write_text(
        (project / "layout" / "book.css").read_text()
        + f"\nbody {{ background: url({url}/x.png) }}\n"
    )
    assert main(["--root", str(project)]) == 1
    assert "the book may only use files from assets/" in capsys.readouterr().err
    assert requests == []


def test_a_decompression_bomb_picture_is_refused(broken, capsys):
    (broken / "assets" / "bomb.png").write_bytes(_png_header(60000, 60000))
    write(broken, "01-first.md", chapter("![A bomb](../assets/bomb.png)"))
    assert "chapters/01-first.md:7: the image '../assets/bomb.png' is" in fails(broken, capsys)


def test_five_thousand_nested_divs_are_refused(broken, capsys):
    write(broken, "01-first.md", chapter("<div>" * 5000 + "deep" + "</div>" * 5000))
    assert "chapters/01-first.md:7: the HTML here is nested more than 100 elements deep" in fails(
        broken, capsys
    )


def test_a_yaml_alias_bomb_is_refused(broken, capsys):
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"] + [
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}]"
        for i in range(9)
    ]
    write(broken, "01-first.md", "---\ntitle: One\n" + "\n".join(lines) + "\n---\n\nText.\n")
    assert (
        "chapters/01-first.md:4: this YAML cannot be read: YAML aliases (*name) are not used in "
        "this book" in fails(broken, capsys)
    )


def test_python_objects_in_front_matter_are_refused(broken, capsys):
    write(
        broken,
        "01-first.md",
        '---\ntitle: !!python/object/apply:os.system ["touch /tmp/owned"]\n---\n\nText.\n',
    )
    err = fails(broken, capsys)
    assert "chapters/01-first.md:2: this YAML cannot be read" in err
    assert not Path("/tmp/owned").exists()


def test_template_syntax_in_a_chapter_is_printed_as_written(project):
    write(
        project,
        "01-first.md",
        chapter("Seven times seven is {{ 7*7 }}; {% for x in range(3) %}loop{% endfor %}."),
    )
    assert main(["--root", str(project)]) == 0
    text = " ".join(page.extract_text() for page in PdfReader(project / "build" / "book.pdf").pages)
    assert "{{ 7*7 }}" in text and "{% for x in range(3) %}loop{% endfor %}" in text
    assert "is 49" not in text and "looplooploop" not in text


def test_a_chapter_larger_than_the_cap_is_refused(broken, capsys):
    write(broken, "01-first.md", chapter("word " * 500_000))
    assert "chapters/01-first.md: the file is larger than 2 MB" in fails(broken, capsys)


def test_a_runaway_layout_is_stopped_with_a_message(broken, capsys, monkeypatch):
    import signal

    from bookpress import typeset

    def runaway(*arguments, **keywords):  # as if the time limit ran out in the middle of the layout
        signal.raise_signal(signal.SIGALRM)

    monkeypatch.setattr(typeset, "typeset", runaway)
    before = hashes(broken / "build")
    assert main(["--root", str(broken), "--timeout", "30", "--force"]) == 1
    err = capsys.readouterr().err
    assert "building book took longer than 30 seconds" in err and "--timeout" in err
    assert hashes(broken / "build") == before
    assert signal.alarm(0) == 0, "the alarm is cleared after the build"


def test_a_worker_that_dies_fails_the_build_with_a_message(broken, capsys, monkeypatch):
    import multiprocessing

    from bookpress import typeset

    monkeypatch.setattr(
        typeset.Typesetter, "render_chapter", lambda *arguments: os._exit(9)
    )  # as if killed
    before = hashes(broken / "build")
    assert main(["--root", str(broken), "--force", "--jobs", "2"]) == 1
    err = capsys.readouterr().err
    assert "a process laying out chapters stopped unexpectedly" in err and "--jobs 1" in err
    assert "Traceback" not in err and hashes(broken / "build") == before
    assert multiprocessing.active_children() == []


def test_a_runaway_chapter_in_a_worker_is_stopped_and_no_worker_is_left(
    broken, capsys, monkeypatch
):
    import multiprocessing
    import signal

    from bookpress import typeset

    def runaway(
        *arguments, **keywords
    ):  # the worker's layout never ends; the build's time runs out
        os.kill(os.getppid(), signal.SIGALRM)
        signal.pause()

    monkeypatch.setattr(typeset.Typesetter, "render_chapter", runaway)
    before = hashes(broken / "build")
    assert main(["--root", str(broken), "--timeout", "30", "--force", "--jobs", "2"]) == 1
    assert "building book took longer than 30 seconds" in capsys.readouterr().err
    assert hashes(broken / "build") == before
    assert multiprocessing.active_children() == []


# --- check, no-op rebuilds, watch
# ------------------------------------------------------------------


def test_check_on_the_shipped_sources_prints_nothing_and_writes_nothing(capfd, tmp_path):
    from conftest import ROOT

    before = _tree(ROOT / "build")
    assert main(["--root", str(ROOT), "--check", "--build-dir", str(tmp_path / "build")]) == 0
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert _tree(ROOT / "build") == before and not (tmp_path / "build").exists()


def _tree(folder: Path) -> dict:
    """Every file under folder, its cache too, with its bytes' hash and its modification time."""
    return {
        str(path.relative_to(folder)): (
            hashlib.sha256(path.read_bytes()).hexdigest(),
            path.stat().st_mtime_ns,
        )
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_check_reports_every_problem_without_building(broken, capsys):
    write(broken, "01-first.md", chapter("![](../assets/none.png)"))
    write(broken, "02-second.md", "---\ntitle: Two\ncolour: no\n---\n\nText.\n")
    before = hashes(broken / "build")
    assert main(["--root", str(broken), "--check"]) == 1
    err = capsys.readouterr().err
    assert "chapters/01-first.md:7: the image '../assets/none.png' has no alt text" in err
    assert "chapters/02-second.md:3: unknown key 'colour'" in err
    assert hashes(broken / "build") == before


def test_a_second_build_with_nothing_changed_is_up_to_date_without_weasyprint(project, tmp_path):
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    command = [
        sys.executable,
        str(Path(__file__).parents[1] / "make_book.py"),
        "--root",
        str(project),
    ]
    subprocess.run(command, check=True, capture_output=True, env=environment)
    poisoned = tmp_path / "poison"
    (poisoned / "weasyprint").mkdir(parents=True)
    (poisoned / "weasyprint" / "__init__.py").write_text(
        "raise ImportError('WeasyPrint was imported')\n"
    )
    quick = {**environment, "PYTHONPATH": os.pathsep.join([str(poisoned), *sys.path])}
    again = subprocess.run(command, capture_output=True, text=True, env=quick)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("Up to date: build/book.pdf")
    (project / "chapters" / "02-second.md").write_text(
        (project / "chapters" / "02-second.md").read_text() + "\nMore.\n"
    )
    edited = subprocess.run(command, capture_output=True, text=True, env=environment)
    assert edited.stdout.startswith("The book is ready")
    forced = subprocess.run(command + ["--force"], capture_output=True, text=True, env=environment)
    assert forced.stdout.startswith("The book is ready")


def test_watch_rebuilds_on_each_change_and_keeps_going_after_an_error(capsys):
    from bookpress.watch import watch

    results = iter([0, 1, 0])
    changes = [{(1, "/p/chapters/01-first.md")}, {(1, "/p/chapters/02-second.md")}]
    assert watch(Path("/p"), lambda: next(results), changes=changes) == 0
    out = capsys.readouterr().out
    assert (
        out.count("built in") == 2
        and out.count("failed; the last good PDF is still in build/") == 1
    )
    assert "Changed: 01-first.md" in out and "Changed: 02-second.md" in out


def _dot(project: Path) -> None:
    (project / "assets" / "dot.png").write_bytes(_png_header(1, 1, complete=True))


def _png_header(width: int, height: int, complete: bool = False) -> bytes:
    """A PNG whose header claims width × height pixels (and, complete, one black pixel)."""

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    data = chunk(b"IDAT", zlib.compress(b"\0" * (1 + width) * height if complete else b"\0" * 1024))
    return b"\x89PNG\r\n\x1a\n" + header + data + chunk(b"IEND", b"")

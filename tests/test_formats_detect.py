"""Kind by content, clear one-line errors for unusable files, and the shared invariants."""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

import pytest

from ipqa.errors import CorpusError
from ipqa.formats import SUPPORTED_SUFFIXES, Converted, check_converted, convert, detect_kind, readable_stem

from . import docfixtures as fx


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    d = tmp_path_factory.mktemp("detect")
    return {
        "pdf": fx.make_pdf(d / "a.pdf").read_bytes(),
        "docx": fx.make_docx(d / "a.docx").read_bytes(),
        "html": fx.make_html(d / "a.html").read_bytes(),
        "markdown": fx.make_markdown(d / "a.md").read_bytes(),
    }


def test_supported_suffixes():
    assert SUPPORTED_SUFFIXES == (".txt", ".md", ".markdown", ".pdf", ".docx", ".html", ".htm")


@pytest.mark.parametrize(
    ("kind", "name", "expected"),
    [
        ("pdf", "report.pdf", "pdf"),
        ("pdf", "report.txt", "pdf"),
        ("pdf", "report", "pdf"),
        ("docx", "report.docx", "docx"),
        ("docx", "report.bin", "docx"),
        ("html", "page.html", "html"),
        ("html", "page.txt", "html"),
        ("html", "page.md", "html"),
        ("markdown", "notes.md", "markdown"),
        ("markdown", "notes.markdown", "markdown"),
        ("markdown", "notes.txt", "text"),
    ],
)
def test_detect_by_content(samples, kind, name, expected):
    assert detect_kind(name, samples[kind]) == expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"  \n<!-- saved page -->\n<HTML><body><p>x</p></body></HTML>", "html"),
        (b'<?xml version="1.0"?>\n<!DOCTYPE html>\n<html></html>', "html"),
        (b"<head><title>t</title></head>", "html"),
        (b"Plain notes that mention <html> tags later on.", "text"),
        (b"\xef\xbb\xbfText with a byte order mark.", "text"),
    ],
)
def test_html_sniffing(data, expected):
    assert detect_kind("notes.txt", data) == expected


def test_markdown_mentioning_html_stays_markdown():
    data = b"# Guide\n\nWrite `<html>` at the top of every page.\n\n```\n<html>\n<body>\n```\n"
    assert detect_kind("guide.md", data) == "markdown"


@pytest.mark.parametrize(
    ("name", "data", "why"),
    [
        ("notes.pdf", b"Just some text, not a PDF.", "named .pdf but is not a PDF file"),
        ("notes.docx", b"Just some text.", "named .docx but is not a Word .docx document"),
        ("archive.zip", None, "unsupported file type (zip archive that is not a Word .docx document)"),
        ("sheet.xlsx", None, "unsupported file type"),
        (
            "old.doc",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,
            "unsupported file type (legacy Office",
        ),
        (
            "locked.docx",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,
            "encrypted (a password-protected Word file)",
        ),
        ("image.txt", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "unsupported file type (PNG image)"),
        ("blob.txt", b"abc\x00def", "binary file (contains NUL bytes)"),
        (
            "latin1.txt",
            "café au lait.".encode("latin-1"),
            "not valid UTF-8 (invalid continuation byte at byte 3)",
        ),
        ("wide.txt", "text".encode("utf-16"), "not valid UTF-8 (UTF-16 text"),
        ("empty.txt", b"", "empty"),
        ("blank.md", b"  \n\n", "empty"),
        ("damaged.docx", b"PK\x03\x04not really a zip", "cannot be read as DOCX"),
    ],
)
def test_unusable_files_are_clear_errors(name, data, why):
    if data is None:
        data = _zip({"xl/workbook.xml": b"<workbook/>", "[Content_Types].xml": b"<Types/>"})
    with pytest.raises(CorpusError) as err:
        convert(name, data)
    message = str(err.value)
    assert message.startswith(f"{name}: ") and why in message and "\n" not in message


def test_docx_zip_with_broken_xml():
    data = _zip({"word/document.xml": b"<w:document><oops", "[Content_Types].xml": b"<Types/>"})
    with pytest.raises(CorpusError, match=r"^bad\.docx: cannot be read as DOCX \("):
        convert("bad.docx", data)


def test_garbage_never_escapes_as_another_exception(samples):
    rng = random.Random(11)
    blobs = [bytes(rng.randrange(256) for _ in range(n)) for n in (1, 10, 500)]
    for kind in ("pdf", "docx"):
        good = samples[kind]
        for _ in range(6):
            cut = bytearray(good)
            for _ in range(20):  # flip bytes in the middle of the file
                cut[rng.randrange(len(cut) // 4, len(cut))] = rng.randrange(256)
            blobs.append(bytes(cut))
        blobs.append(good[: len(good) // 2])
    for data in blobs:
        for name in ("x.pdf", "x.docx", "x.txt", "x.md", "x.html"):
            try:
                c = convert(name, data)
            except CorpusError as exc:
                assert str(exc).startswith(f"{name}: ") and "\n" not in str(exc)
            else:
                check_converted(c)


@pytest.mark.parametrize("kind", ["pdf", "docx", "html", "markdown"])
def test_invariants_hold_for_every_format(samples, kind):
    suffix = {"markdown": ".md"}.get(kind, f".{kind}")
    c = convert(f"sample{suffix}", samples[kind])
    assert isinstance(c, Converted) and c.kind == kind
    check_converted(c)
    assert "\r" not in c.text and "\n\n" not in c.text and c.title.strip()
    starts = [h.start for h in c.headings]
    assert starts == sorted(starts)
    for h in c.headings:
        line_start = c.text.rfind("\n", 0, h.start) + 1
        line_end = c.text.find("\n", h.end)
        line = c.text[line_start : None if line_end < 0 else line_end]
        assert line.strip() == c.text[h.start : h.end] == line
        assert 1 <= h.level <= 6
    if kind == "pdf":
        assert c.pages[0] == 0 and all(a < b for a, b in zip(c.pages, c.pages[1:], strict=False))
        assert c.pages[-1] <= len(c.text)
    else:
        assert c.pages == ()


def test_text_kind_invariants():
    c = convert("notes.txt", b"Title Line\r\n=========\r\n\r\nBody text here.\r\n")
    check_converted(c)
    assert c.kind == "text" and c.text == "Title Line\nBody text here."


def test_check_converted_catches_broken_structures():
    from ipqa.formats import Heading

    good = Converted("Head\nBody.", (Heading(0, 4, 1, ""),), (), "T", "text")
    check_converted(good)
    for bad in (
        Converted("Head\r\nBody.", (), (), "T", "text"),
        Converted("Head\nBody.", (Heading(0, 3, 1, ""),), (), "T", "text"),  # not the whole line
        Converted("Head\nBody.", (Heading(0, 4, 7, ""),), (), "T", "text"),
        Converted("Head\nBody.", (), (), " ", "text"),
        Converted("Head\nBody.", (), (1, 5), "T", "pdf"),
        Converted("Head\nBody.", (), (0, 5, 3), "T", "pdf"),
    ):
        with pytest.raises(ValueError):
            check_converted(bad)


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("asia-pacific_ip-report.pdf", "Asia pacific ip report"),
        ("vietnam.docx", "Vietnam"),
        ("folder/sub/thai__notes--2025.md", "Thai notes 2025"),
        (".hidden", ".hidden"),
        ("---.txt", "---.txt"),
    ],
)
def test_readable_stem(name, title):
    assert readable_stem(name) == title


def test_file_on_disk_round_trip(tmp_path: Path):
    path = fx.make_markdown(tmp_path / "m.md")
    assert convert(path.name, path.read_bytes()).title == fx.MARKDOWN_TITLE

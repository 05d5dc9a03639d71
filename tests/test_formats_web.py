"""HTML: the article only (no menu, cookie banner, sidebar or footer), with its h1–h3 headings."""

from __future__ import annotations

from pathlib import Path

import pytest

from ipqa.errors import CorpusError
from ipqa.formats import check_converted, convert

from . import docfixtures as fx
from .docfixtures import headings_of, section_of


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory):
    path = fx.make_html(tmp_path_factory.mktemp("html") / "thailand-patent-reform.html")
    return convert(path.name, path.read_bytes())


def test_structure(page):
    check_converted(page)
    assert page.kind == "html" and page.pages == ()
    assert page.title == fx.HTML_TITLE  # the site name after "|" is not part of it
    assert headings_of(page) == fx.HTML_HEADINGS


@pytest.mark.parametrize("fact", fx.HTML_FACTS, ids=lambda f: f.sentence[:30])
def test_facts(page, fact):
    at = page.text.index(fact.sentence)
    assert section_of(page, at) == fact.section


@pytest.mark.parametrize("boilerplate", fx.HTML_BOILERPLATE)
def test_boilerplate_is_gone(page, boilerplate):
    assert boilerplate not in page.text


def test_paragraphs_list_items_and_table_rows_are_lines(page):
    lines = page.text.split("\n")
    assert "Design patent terms were extended from 10 to 15 years." in lines
    assert "Online filing became mandatory for all new applications." in lines
    assert lines[-3:] == [
        "Year | Court cases | Items seized",
        "2023 | 580 | 0.9 million",
        "2024 | 620 | 1.2 million",
    ]
    intro = next(line for line in lines if line.startswith("The Department of Intellectual Property"))
    assert "receive a first office action within 12 months of filing." in intro  # inline tags, wraps joined
    assert "<" not in page.text and "  " not in page.text


def test_html_detected_by_content_in_a_txt_file(tmp_path: Path):
    data = fx.make_html(tmp_path / "p.html").read_bytes()
    c = convert("saved-page.txt", data)
    assert c.kind == "html" and headings_of(c) == fx.HTML_HEADINGS


def test_deeper_headings_become_level_three():
    body = " ".join(
        ["Laos registered 1,200 trademarks in 2024 and plans to digitise all of its records."] * 4
    )
    html = (
        "<html><head><title>Laos IP</title></head><body><article>"
        f"<h1>Laos IP Update</h1><p>{body}</p><h2>Trademarks</h2><p>{body}</p>"
        f"<h4>Fees</h4><p>{body}</p></article></body></html>"
    )
    c = convert("laos.html", html.encode())
    assert headings_of(c) == [("Laos IP Update", 1, ""), ("Trademarks", 2, ""), ("Fees", 3, "")]


def test_page_without_main_text_is_an_error():
    html = "<!doctype html><html><head><title>Menu</title></head><body><nav><a href='/'>Home</a></nav></body></html>"
    with pytest.raises(CorpusError, match=r"^menu\.html: no main text found$"):
        convert("menu.html", html.encode())


def test_cookie_class_on_body_does_not_remove_the_page():
    html = fx._HTML.replace("<body>", '<body class="cookie-consent-shown">')
    c = convert("flagged.html", html.encode())
    assert headings_of(c) == fx.HTML_HEADINGS and "We use cookies" not in c.text


def test_inline_code_kept_code_blocks_dropped_and_title_cleaned():
    body = "Cambodia accepts electronic filings for every class of goods and services since 2023."
    html = (
        "<html><head><title>Filing Online in Cambodia - Mekong IP Watch</title></head><body><article>"
        f"<h1>Filing Online</h1><p>{body} Send forms to <code>filing@dip.example</code> before noon.</p>"
        f"<pre><code>curl -X POST https://api.example/file\n  --data form.json</code></pre><p>{body}</p>"
        "</article></body></html>"
    )
    c = convert("kh.html", html.encode())
    assert "Send forms to filing@dip.example before noon." in c.text
    assert "curl" not in c.text
    assert c.title in ("Filing Online in Cambodia", "Filing Online")


def test_lists_of_sentences_are_kept_on_a_page_without_main_or_article():
    """A brief written as plain <body> headings, paragraphs and lists: its list items are content
    (the categories of a rule), not a menu, and each is a line of its own. trafilatura's
    precision mode drops this list; its recall mode keeps it."""
    from ipqa.formats.web import convert_html

    def para(k: int) -> str:
        return (
            "<p>"
            + "\n".join(f"Sentence {i} of part {k} explains one more point about licences." for i in range(5))
            + "</p>"
        )

    items = [
        "Open category: drones under 2 kg flown within sight, which need registration only.",
        "Specific category: drones from 2 kg to 25 kg, which need an operating approval.",
        "Certified category: drones above 25 kg, which need a full operator certificate.",
    ]
    ul = "<ul>\n" + "\n".join(f"<li>{t}</li>" for t in items) + "\n</ul>"
    html = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>A brief</title>\n</head>\n'
        f"<body>\n<h1>A brief</h1>\n<h2>Rules</h2>\n{para(1)}\n<h3>Categories</h3>\n{para(2)}\n"
        f"<p>Drones are divided into three categories.</p>\n{ul}\n{para(3)}\n</body>\n</html>"
    )
    lines = convert_html("brief.html", html).text.split("\n")
    assert "Drones are divided into three categories." in lines
    for t in items:
        assert t in lines


def test_a_long_page_marking_no_main_content_keeps_its_headings_and_drops_its_furniture():
    """A brief saved as plain <body> headings and paragraphs (no <main>, no <article>): its body is
    the content, so each sentence keeps its section. Once such a page is a few screens long,
    trafilatura alone keeps its paragraphs and drops every heading."""
    from ipqa.formats.web import convert_html

    def part(k: int) -> str:
        return f"<h2>{k}. Part {k}</h2>" + "".join(
            "<p>"
            + " ".join(f"Rule {i} of part {k}.{j} sets out one more point about fees." for i in range(6))
            + "</p>"
            for j in range(3)
        )

    html = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>A brief</title></head><body>"
        "<nav><a href='/'>Home</a> <a href='/news'>News</a></nav><h1>A brief</h1>"
        + "".join(part(k) for k in range(1, 9))
        + "<footer>Copyright Example Publishing</footer></body></html>"
    )
    c = convert_html("plain.html", html)
    assert headings_of(c) == [("A brief", 1, "")] + [(f"{k}. Part {k}", 2, f"{k}") for k in range(1, 9)]
    for k in range(1, 9):
        at = c.text.index(f"Rule 5 of part {k}.2 sets out one more point about fees.")
        assert section_of(c, at) == f"{k}. Part {k}"
    assert "Home" not in c.text and "Copyright" not in c.text


@pytest.mark.parametrize("klass", ["meta", "byline", "article-meta", "timestamp"])
def test_a_byline_in_the_article_is_kept_and_one_in_the_page_header_is_not(klass):
    """trafilatura discards elements classed as page metadata; the brief's own "published by" line
    is a fact a reader asks about, the site header's is furniture."""
    byline = "Published in May 2025 by the Andes Trade Desk research team."
    header = "Site updated daily by the web team of the trade desk portal."
    body = [
        f"Bolivia registers trademarks for {n} classes of goods in one filing, renewable every ten years."
        for n in ("two", "three", "four", "five", "six", "seven", "eight", "nine")
    ]  # long enough that trafilatura's own extractor, not a fallback, reads the page
    paragraphs = "".join(f"<p>{b}</p>" for b in body)
    html = (
        "<html><head><title>Bolivia brief</title></head><body>"
        f'<header><p class="{klass}">{header}</p></header><main><article><h1>Bolivia brief</h1>'
        f'<p class="{klass}">{byline}</p><h2>Trademarks</h2>{paragraphs}</article></main>'
        "</body></html>"
    )
    c = convert("bo.html", html.encode())
    assert byline in c.text and all(b in c.text for b in body)
    assert header not in c.text

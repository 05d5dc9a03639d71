"""Markdown: headings kept with their levels, the words kept, the syntax gone."""

from __future__ import annotations

import pytest

from ipqa.errors import CorpusError
from ipqa.formats import check_converted, convert
from ipqa.formats.markdown import convert_markdown, inline_text

from . import docfixtures as fx
from .docfixtures import headings_of, section_of


@pytest.fixture(scope="module")
def md(tmp_path_factory: pytest.TempPathFactory):
    path = fx.make_markdown(tmp_path_factory.mktemp("md") / "malaysia-handbook.md")
    return convert(path.name, path.read_bytes())


def test_structure(md):
    check_converted(md)
    assert md.kind == "markdown" and md.pages == ()
    assert md.title == fx.MARKDOWN_TITLE  # from the front matter
    assert headings_of(md) == fx.MARKDOWN_HEADINGS
    assert md.text.split("\n") == fx.MARKDOWN_LINES


def test_repeated_heading_text_has_two_spans(md):
    spans = [(h.start, h.end) for h in md.headings if md.text[h.start : h.end] == "Enforcement"]
    assert len(spans) == 2 and spans[0] != spans[1]
    parents = [
        section_of(md, max(h.start for h in md.headings if h.level == 1 and h.start < s)) for s, _ in spans
    ]
    assert parents == ["Trademarks in Malaysia", "Patents in Malaysia"]


@pytest.mark.parametrize("fact", fx.MARKDOWN_FACTS, ids=lambda f: f.sentence[:30])
def test_facts(md, fact):
    at = md.text.index(fact.sentence)
    assert section_of(md, at) == fact.section


@pytest.mark.parametrize(
    "syntax",
    ["**", "__", "~~", "`", "](", "![", "#", "---", "|:", "[x]", "> ", "<!--", "internal note", "curl", "author:",
     "myipo.gov.my", "chart.png"],
)  # fmt: skip
def test_syntax_is_gone(md, syntax):
    assert syntax not in md.text


@pytest.mark.parametrize(
    ("source", "text"),
    [
        ("Filed **early** and *often*.", "Filed early and often."),
        (
            "A __bold__ and _light_ claim with snake_case_name kept.",
            "A bold and light claim with snake_case_name kept.",
        ),
        ("Fees ~~rose~~ fell.", "Fees rose fell."),
        ("Use `IP Online` or ``a `tick` here``.", "Use IP Online or a `tick` here."),
        ('See [the guide](https://x.example/a_(b) "T") now.', "See the guide now."),
        ("See [the guide][g] and [undefined] now.", "See the guide and [undefined] now."),
        ("Logo ![alt](i.png) gone.", "Logo gone."),
        (
            "Mail <info@myipo.example> or <https://myipo.example>.",
            "Mail info@myipo.example or https://myipo.example.",
        ),
        ("Literal \\*stars\\* and 5 * 3 * 2.", "Literal *stars* and 5 * 3 * 2."),
        ("A note[^1] here &amp; there.", "A note here & there."),
        ("Inline <b>HTML</b> tags<br> dropped.", "Inline HTML tags dropped."),
    ],
)
def test_inline_text(source, text):
    assert inline_text(source) == text


def test_shortcut_reference_links_use_the_definitions():
    assert inline_text("Ask [MyIPO] today.", frozenset({"myipo"})) == "Ask MyIPO today."
    c = convert_markdown("r.md", "Ask [MyIPO] today.\n\n[myipo]: https://www.myipo.gov.my\n")
    assert c.text == "Ask MyIPO today."


def test_headings_setext_atx_closing_hashes_and_numbers():
    text = (
        "Brunei Guide\n============\n\nIntro paragraph.\n\n"
        "2.1 Scope of Protection\n-----------------------\n\nBody.\n\n"
        "### 2.1.1 Fees ###\n\nMore body.\n\n#NotAHeading here\n"
    )
    c = convert_markdown("brunei.md", text)
    check_converted(c)
    assert headings_of(c) == [
        ("Brunei Guide", 1, ""),
        ("2.1 Scope of Protection", 2, "2.1"),
        ("2.1.1 Fees", 3, "2.1.1"),
    ]
    assert c.title == "Brunei Guide"
    assert "#NotAHeading here" in c.text.split("\n")


def test_lists_quotes_and_soft_wraps():
    text = (
        "Intro line one\nwraps here.\n"
        "- item one\n  continues\n* item two\n+ item three\n"
        "1. first\n2) second\n- [ ] open task\n\n"
        "> quoted line\n> continues\n\n"
        "Revenue rose in\n2024. It kept rising.\n"
    )
    c = convert_markdown("l.md", text)
    assert c.text.split("\n") == [
        "Intro line one wraps here.",
        "item one continues",
        "item two",
        "item three",
        "first",
        "second",
        "open task",
        "quoted line continues",
        "Revenue rose in 2024. It kept rising.",  # "2024." inside a paragraph is not a list item
    ]


def test_title_fallbacks():
    assert convert_markdown("x.md", "## Only a Subheading\n\nText.").title == "X"
    assert convert_markdown("x.md", "Text.\n\n# First Top Heading\n").title == "First Top Heading"


def test_code_only_document_is_empty():
    with pytest.raises(CorpusError, match=r"^code\.md: empty$"):
        convert("code.md", b"```\nprint('hi')\n```\n<!-- nothing -->\n")


def test_badge_links_with_only_an_image_vanish():
    c = convert_markdown(
        "b.md", "# Tool\n\n[![License](https://img.example/l.svg)](#license)\n\nText here.\n"
    )
    assert c.text == "Tool\nText here."

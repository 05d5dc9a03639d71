"""HTML → canonical text of the page's main content, via trafilatura (offline: it only parses).

trafilatura keeps the article and drops navigation, cookie banners, sidebars, comments and
footers. A page that marks no main content (neither <main> nor <article>: a brief saved as plain
<body> headings and paragraphs) has its body read as the main content: trafilatura would
otherwise pick the paragraphs and drop every heading, leaving one untitled section. It runs in
its recall mode: the precision mode drops whole lists of sentences on a page
without <main> or <article> (a brief's list of recommendations), and the page furniture that
recall mode might keep is pruned before extraction anyway (``_PRUNE``: menus, sidebars, the page
footer, cookie/consent banners) and skipped after it (``_SKIP``). Its XML tree is walked in
order: ``<head rend="h1".."h3">`` become headings of levels 1–3 (h4–h6 become level 3),
paragraphs and list items one line each, table rows "a | b"; code blocks and images are
dropped. Title: trafilatura's metadata title (from <title>/og:title, site name removed), else
the page's <title>, else the first h1, else the readable file name. A page where nothing is left
is CorpusError("<name>: no main text found").
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ipqa.errors import CorpusError
from ipqa.formats import Block, Converted, assemble, table_row

_HEAD_LEVEL = re.compile(r"h(\d)", re.IGNORECASE)
# trafilatura's own markup never uses the page-furniture tags; they appear only when its fallback
# extractors keep raw HTML, and are dropped here too.
_SKIP = frozenset(
    {"graphic", "del", "comments", "fw", "note", "nav", "aside", "footer", "form", "button", "menu",
     "script", "style", "noscript", "template", "svg"}
)  # fmt: skip
# Removed before extraction: menus, sidebars, the page footer, cookie/consent banners.
_PRUNE = [
    "//nav",
    "//aside",
    "//body/footer",
    "//*[@role='navigation' or @role='banner' or @role='contentinfo']",
    # inside <body> only: pages often flag <body class="cookie-consent-shown"> itself
    "//body//*[not(self::main or self::article)][contains(translate(@id, 'COKIE', 'cokie'), 'cookie')"
    " or contains(translate(@class, 'COKIE', 'cokie'), 'cookie')"
    " or contains(translate(@id, 'CONSET', 'conset'), 'consent')"
    " or contains(translate(@class, 'CONSET', 'conset'), 'consent')]",
]
# trafilatura discards any element whose class names page metadata ("meta", "byline",
# "timestamp" …). Inside the main content such a paragraph is the brief's own line ("Published in
# March 2025 by the … research team"): who wrote it and when are facts a reader asks about, so the
# class is dropped before extraction. Outside <main>/<article> the page furniture goes as before.
_BYLINE_CLASS = re.compile(r"meta|byline|author|timestamp|date|publish", re.IGNORECASE)
_BLOCK_TAGS = frozenset({"p", "head", "list", "item", "table", "row", "cell", "quote", "div", "main", "body"})


def _text(el) -> str:
    """Text of an inline element and its children (not its tail); dropped tags left out."""
    parts: list[str] = [el.text or ""]
    for child in el:
        if child.tag == "lb":
            parts.append(" ")
        elif isinstance(child.tag, str) and child.tag not in _SKIP:
            inner = _text(child)
            parts.append(f" {inner} " if child.tag in _BLOCK_TAGS else inner)
        parts.append(child.tail or "")
    return "".join(parts)


def _is_code_block(el) -> bool:
    """trafilatura writes <code> for inline code and for <pre> blocks; only multi-line ones are blocks."""
    return el.tag == "code" and "\n" in "".join(el.itertext()).strip()


def _blocks(el) -> Iterator[Block]:
    """Lines of a container with mixed content: inline runs between block children are lines too."""
    run: list[str] = [el.text or ""]
    for child in el:
        tag = child.tag if isinstance(child.tag, str) else ""
        if _is_code_block(child):
            tag = "graphic"  # dropped like an image: code is not prose to quote
        if tag in _BLOCK_TAGS or tag in _SKIP:
            if "".join(run).strip():
                yield Block("".join(run))
            if tag not in _SKIP:
                yield from _block(child)
            run = [child.tail or ""]
        else:
            run.append(" " if tag == "lb" else _text(child) if tag else "")
            run.append(child.tail or "")
    if "".join(run).strip():
        yield Block("".join(run))


def _block(el) -> Iterator[Block]:
    tag = el.tag
    if tag == "head":
        m = _HEAD_LEVEL.fullmatch(el.get("rend", ""))
        yield Block(_text(el), level=max(1, min(int(m.group(1)), 3)) if m else 2)
    elif tag == "table":
        for row in el.iter("row"):
            yield Block(table_row([_text(cell) for cell in row if cell.tag == "cell"]))
    else:  # p, quote, list, item, div …: each item or paragraph its own line
        yield from _blocks(el)


_TITLE_SEPARATOR = re.compile(r"\s+(?:[|\-–—·•:]{1,2})\s+")


def _page_title(html: str) -> str:
    """The <title> without its site name: the longest part around " | ", " - ", " – " …"""
    import html as html_lib

    m = re.search(r"<title[^>]*>(.*?)</title>", html[:200_000], re.IGNORECASE | re.DOTALL)
    if not m:
        return ""
    title = " ".join(html_lib.unescape(re.sub(r"<[^>]+>", "", m.group(1))).split())
    parts = [p for p in _TITLE_SEPARATOR.split(title) if p.strip()]
    return max(parts, key=len) if parts else title


def _title(extracted: str, html: str) -> str:
    """trafilatura's title when the page's <title> confirms it, else the cleaned <title>.

    trafilatura sometimes takes a heading of a pop-up or sidebar ("Keyboard shortcuts")."""
    extracted = " ".join(extracted.split())
    page = _page_title(html)
    if extracted and (not page or extracted.casefold() in _raw_title(html).casefold()):
        return extracted
    return page or extracted


def _raw_title(html: str) -> str:
    m = re.search(r"<title[^>]*>(.*?)</title>", html[:200_000], re.IGNORECASE | re.DOTALL)
    return " ".join(m.group(1).split()) if m else ""


def _with_main(html: str):
    """The page as a tree, its body's content inside <main> when the page marks no main content,
    and the main content's byline paragraphs unmarked so that trafilatura keeps them."""
    import lxml.html

    try:
        tree = lxml.html.document_fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return html  # trafilatura reports what it cannot read
    body = tree.find("body")
    if body is not None and not tree.xpath("//main|//article"):
        main = lxml.html.Element("main")
        main.text, body.text = body.text, None
        for child in list(body):
            main.append(child)
        body.append(main)
    for p in tree.xpath("//main//p[@class]|//article//p[@class]"):
        if _BYLINE_CLASS.search(p.get("class", "")):
            del p.attrib["class"]
    return tree


def convert_html(name: str, html: str) -> Converted:
    """HTML text → Converted; CorpusError("<name>: no main text found") when there is no article."""
    import trafilatura

    doc = trafilatura.bare_extraction(
        _with_main(html),
        include_tables=True,
        include_comments=False,
        include_images=False,
        include_formatting=True,
        include_links=False,
        favor_recall=True,
        with_metadata=True,
        prune_xpath=_PRUNE,
    )
    if doc is None or doc.body is None:
        raise CorpusError(f"{name}: no main text found")
    blocks = list(_blocks(doc.body))
    if not any(b.text.strip() for b in blocks):
        raise CorpusError(f"{name}: no main text found")
    title = _title(doc.title or "", html)
    if not title:
        title = next((b.text for b in blocks if b.level == 1 and b.text.strip()), "")
    return assemble(name, "html", blocks, title)

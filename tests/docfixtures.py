"""Realistic documents of every supported format, generated in code (nothing binary is committed).

Each generator writes one file and has a list of the facts it contains, as ``Fact(page, section,
sentence)`` tuples: the 1-based page a sentence starts on (None for unpaged formats), the heading
of the section it stands in, and the exact sentence as it appears in the canonical text. The
countries (Indonesia, Vietnam, Thailand, Malaysia) are deliberately not those of the shipped
report, so question-answering tests built on these files show nothing comes from that report.

``FACTS`` maps each generator's name to its facts; each generator also carries them as
``make_x.FACTS``.
"""

from __future__ import annotations

import io
import random
import textwrap
from pathlib import Path
from typing import NamedTuple


class Fact(NamedTuple):
    page: int | None  # 1-based page the sentence starts on; None for unpaged formats
    section: str  # heading of the section holding the sentence ("" = untitled opening)
    sentence: str  # exactly as in the canonical text


# ---------------------------------------------------------------------------------------------
# PDF (Indonesia)

PDF_TITLE = "Indonesia Digital IP Outlook 2025"  # the running header and the metadata title
PDF_HEADINGS = [
    ("Digital Economy and Intellectual Property in Indonesia", 1, ""),
    ("1. Market Overview", 1, "1"),
    ("2. Trademark Filings", 1, "2"),
    ("2.1 Examination Times", 2, "2.1"),
    ("2.2 Regional Offices", 2, "2.2"),
    ("3. Enforcement and Dispute Resolution", 1, "3"),
    ("3.1 Online Marketplaces", 2, "3.1"),
    ("4. Outlook", 1, "4"),
    ("Conclusion", 1, ""),
]
PDF_WRAPPED_SENTENCE = (
    "The Batam office processed 9,850 industrial design applications in 2024, which was more than "
    "any other regional office in the Riau Islands province."
)
PDF_HYPHENATED_SENTENCE = (
    "In 2024 the government launched a national programme to strengthen the protection of "
    "geographical indications such as Gayo coffee and Kintamani coffee."
)
PDF_FACTS = [
    Fact(
        1, "1. Market Overview", "Indonesia had an estimated 221 million internet users at the start of 2025."
    ),
    Fact(1, "1. Market Overview", PDF_HYPHENATED_SENTENCE),
    Fact(
        2,
        "2. Trademark Filings",
        "The Directorate General of Intellectual Property received 128,400 trademark applications in 2024.",
    ),
    Fact(
        2,
        "2.1 Examination Times",
        "The average time from filing to registration of a trademark in Indonesia fell to 14 months in 2024.",
    ),
    Fact(2, "2.2 Regional Offices", PDF_WRAPPED_SENTENCE),
    Fact(
        3,
        "3. Enforcement and Dispute Resolution",
        "The Commercial Court in Jakarta decided 312 trademark cancellation cases in 2024.",
    ),
    Fact(
        3,
        "3.1 Online Marketplaces",
        "Marketplace operators removed 48,000 counterfeit listings after notices from rights holders in 2024.",
    ),
    Fact(
        4,
        "Conclusion",
        "Indonesia plans to accede to the Hague Agreement on industrial designs by the end of 2026.",
    ),
]

# One list per explicit new page of (kind, text): kind "title", "h1"/"h2" heading, "p" paragraph;
# in a paragraph "{-}" forces a hyphenated line break inside a word and "{page}" a page break.
_PDF_CONTENT: list[list[tuple[str, str]]] = [
    [
        ("title", "Digital Economy and Intellectual Property in Indonesia"),
        (
            "p",
            "This outlook reviews how Indonesia protects intellectual property in its fast growing digital "
            "economy. It covers trademark filings, examination times, enforcement against counterfeit goods "
            "and the work of regional offices across the archipelago.",
        ),
        ("h1", "1. Market Overview"),
        (
            "p",
            "Indonesia had an estimated 221 million internet users at the start of 2025. The digital economy "
            "reached a gross merchandise value of 90 billion dollars in 2024, the largest in Southeast Asia.",
        ),
        (
            "p",
            "In 2024 the government launched a national programme to strengthen the protec{-}tion of "
            "geographical indications such as Gayo coffee and Kintamani coffee. By the end of that year "
            "Indonesia had registered 139 geographical indications.",
        ),
    ],
    [
        ("h1", "2. Trademark Filings"),
        (
            "p",
            "The Directorate General of Intellectual Property received 128,400 trademark applications in 2024. "
            "Domestic applicants filed 71 percent of these applications, most of them small and medium "
            "enterprises selling through online channels.",
        ),
        ("h2", "2.1 Examination Times"),
        (
            "p",
            "The average time from filing to registration of a trademark in Indonesia fell to 14 months in 2024. "
            "Applicants can follow every application through the online portal, which also publishes "
            "oppositions and decisions of the trademark appeal commission.",
        ),
        (
            "p",
            "Examiners give priority to applications from exporters that need registrations abroad. Requests "
            "for accelerated examination rose sharply after the fee for the service was reduced in 2023.",
        ),
        ("h2", "2.2 Regional Offices"),
        (
            "p",
            "Regional offices in Surabaya, Medan and Makassar accept filings in person and advise local "
            "businesses on branding. The Batam office processed 9,850 industrial design applications in "
            "2024, which was more than{page}any other regional office in the Riau Islands province. Its staff "
            "also train customs officers on recognising counterfeit packaging.",
        ),
        # page 3 starts inside the paragraph above
        ("h1", "3. Enforcement and Dispute Resolution"),
        (
            "p",
            "The Commercial Court in Jakarta decided 312 trademark cancellation cases in 2024. Customs officers "
            "at the port of Tanjung Priok seized 1.4 million counterfeit items during the same year.",
        ),
        ("h2", "3.1 Online Marketplaces"),
        (
            "p",
            "Marketplace operators removed 48,000 counterfeit listings after notices from rights holders in 2024. "
            "A joint task force of the police and the ministry follows up on repeat infringers.",
        ),
    ],
    [
        ("h1", "4. Outlook"),
        (
            "p",
            "Filings are expected to keep growing as more small businesses sell online. The office is "
            "recruiting additional examiners to keep examination times stable.",
        ),
        ("h1", "Conclusion"),
        (
            "p",
            "Indonesia plans to accede to the Hague Agreement on industrial designs by the end of 2026. "
            "Companies entering the market should register their marks before launching products.",
        ),
    ],
]


def _fpdf(header: str | None = None, footer: bool = True):
    from fpdf import FPDF

    class Report(FPDF):
        def header(self) -> None:
            if header:
                self.set_font("Helvetica", "I", 9)
                self.cell(0, 8, header, align="C", new_x="LMARGIN", new_y="NEXT")
                self.ln(4)

        def footer(self) -> None:
            if footer:
                self.set_y(-15)
                self.set_font("Helvetica", "", 9)
                self.cell(0, 8, f"Page {self.page_no()}", align="C")

    pdf = Report(format="A4")
    pdf.set_auto_page_break(True, margin=22)
    pdf.set_margins(20, 15, 20)
    return pdf


def _wrap(pdf, words: list[str], width: float) -> list[str]:
    """Greedy line breaking by real string width (what a typesetter would do, minus hyphenation)."""
    lines: list[str] = []
    line = ""
    for word in words:
        candidate = f"{line} {word}" if line else word
        if line and pdf.get_string_width(candidate) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    if line:
        lines.append(line)
    return lines


def _pdf_paragraph(pdf, text: str) -> None:
    """Set a paragraph; "{-}" breaks a word with a hyphen at a line end, "{page}" starts a new page."""
    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.set_font("Helvetica", "", 11)
    for i, chunk in enumerate(text.split("{page}")):
        if i:
            pdf.add_page()
        pieces = chunk.split("{-}")
        for j, piece in enumerate(pieces):
            lines = _wrap(pdf, piece.split(), width)
            if j < len(pieces) - 1:  # ends with the first half of a word: hyphen, then a new line
                if pdf.get_string_width(lines[-1] + "-") > width and " " in lines[-1]:
                    rest, half = lines[-1].rsplit(" ", 1)
                    lines[-1:] = [rest, half]
                lines[-1] += "-"
            for line in lines:
                pdf.set_font("Helvetica", "", 11)
                pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def make_pdf(path: Path) -> Path:
    """A 4-page report: running header, "Page N" footers, numbered headings, facts on pages 1–4,
    a sentence wrapped across the page 2 → 3 break and a word hyphenated at a line end."""
    pdf = _fpdf(header=PDF_TITLE)
    pdf.set_title(PDF_TITLE)
    pdf.set_author("Archipelago IP Research Unit")
    for page in _PDF_CONTENT:
        pdf.add_page()
        for kind, text in page:
            if kind == "title":
                pdf.set_font("Helvetica", "B", 16)
                pdf.cell(0, 10, text, new_x="LMARGIN", new_y="NEXT")
                pdf.ln(4)
            elif kind in ("h1", "h2"):
                pdf.set_font("Helvetica", "B", 13 if kind == "h1" else 11)
                pdf.ln(2)
                pdf.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
            else:
                _pdf_paragraph(pdf, text)
    path.write_bytes(bytes(pdf.output()))
    return path


make_pdf.FACTS = PDF_FACTS  # type: ignore[attr-defined]


def make_scanned_pdf(path: Path) -> Path:
    """Two pages of pictures only (a raster image and drawn shapes): no text layer at all."""
    from PIL import Image

    pdf = _fpdf(header=None, footer=False)
    rng = random.Random(7)
    for _ in range(2):
        pdf.add_page()
        img = Image.new("L", (120, 160), 255)
        img.putdata([255 if rng.random() > 0.1 else 0 for _ in range(120 * 160)])
        pdf.image(img, x=20, y=20, w=120)
        pdf.set_fill_color(200, 200, 200)
        pdf.rect(20, 200, 150, 20, style="F")
        pdf.line(20, 230, 190, 230)
    path.write_bytes(bytes(pdf.output()))
    return path


def make_encrypted_pdf(path: Path) -> Path:
    """A text PDF that needs a user password to open."""
    pdf = _fpdf(header=PDF_TITLE)
    pdf.set_encryption(owner_password="owner-secret", user_password="reader-secret")
    pdf.add_page()
    _pdf_paragraph(pdf, "This confidential memo describes trademark filings in Indonesia in 2024.")
    path.write_bytes(bytes(pdf.output()))
    return path


_BIG_COUNTRIES = [
    "Indonesia",
    "Vietnam",
    "Thailand",
    "Malaysia",
    "the Philippines",
    "Cambodia",
    "Laos",
    "Brunei",
]
_BIG_TOPICS = ["trademark", "patent", "industrial design", "copyright", "trade secret", "plant variety"]
_BIG_TEMPLATES = [
    "In {year} the {topic} office of {country} received {n:,} applications, {pct} percent more than a year earlier.",
    "Courts in {country} decided {m} {topic} disputes in {year}, and the average case took {k} months.",
    "Officials in {country} expect {topic} filings to grow by {pct} percent a year until {year2}.",
    "Small firms filed {pct} percent of all {topic} applications in {country} during {year}.",
    "A new fee schedule for {topic} renewals in {country} took effect in {year} after a public consultation.",
    "Customs authorities in {country} reported {m} seizures linked to {topic} infringement in {year}.",
]


def big_pdf_paragraph(rng: random.Random, sentences: int = 4) -> str:
    """A varied paragraph of plausible statistics (used by the build benchmark)."""
    out = []
    for _ in range(sentences):
        year = rng.randint(2015, 2024)
        out.append(
            rng.choice(_BIG_TEMPLATES).format(
                year=year,
                year2=year + rng.randint(3, 8),
                country=rng.choice(_BIG_COUNTRIES),
                topic=rng.choice(_BIG_TOPICS),
                n=rng.randint(1000, 200000),
                m=rng.randint(10, 900),
                k=rng.randint(4, 40),
                pct=rng.randint(2, 60),
            )
        )
    text = " ".join(out)
    return text[0].upper() + text[1:]


def make_big_pdf(path: Path, pages: int = 500, seed: int = 2025) -> Path:
    """Many pages of varied paragraphs with numbered headings, running header and page numbers.

    Lines are pre-wrapped by character count (no width measuring) so 500 pages take seconds."""
    rng = random.Random(seed)
    pdf = _fpdf(header="Regional IP Statistics Compendium")
    pdf.set_title("Regional IP Statistics Compendium")
    pdf.set_font("Helvetica", "", 10)
    section = 0
    for page in range(pages):
        pdf.add_page()
        if page % 3 == 0:
            section += 1
            pdf.set_font("Helvetica", "B", 12)
            pdf.cell(
                0,
                8,
                f"{section}. {rng.choice(_BIG_COUNTRIES).title()} {rng.choice(_BIG_TOPICS).title()} Statistics",
                new_x="LMARGIN",
                new_y="NEXT",
            )
            pdf.set_font("Helvetica", "", 10)
        for _ in range(5):
            for line in textwrap.wrap(big_pdf_paragraph(rng), 95):
                pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
            if pdf.get_y() > pdf.h - 50:
                break
    path.write_bytes(bytes(pdf.output()))
    return path


# ---------------------------------------------------------------------------------------------
# DOCX (Vietnam)

DOCX_TITLE = "Vietnam Intellectual Property Review 2025"
DOCX_HEADINGS = [
    ("1. Legal Framework", 1, "1"),
    ("1.1 Amendments of 2022", 2, "1.1"),
    ("2. Enforcement Statistics", 1, "2"),
    ("2.1 Customs Measures", 2, "2.1"),
    ("Conclusion", 1, ""),
]
DOCX_TABLE_ROWS = [
    "Year | Administrative cases | Fines collected (billion VND)",
    "2023 | 1,870 | 41",
    "2024 | 2,150 | 56",
]
DOCX_FACTS = [
    Fact(
        None,
        "1. Legal Framework",
        "Vietnam protects inventions, trademarks and copyright under a single Law on Intellectual Property.",
    ),
    Fact(
        None,
        "1.1 Amendments of 2022",
        "The amended Law on Intellectual Property took effect on 1 January 2023.",
    ),
    Fact(
        None,
        "1.1 Amendments of 2022",
        "Sound marks became registrable in Vietnam for the first time under the amended law.",
    ),
    Fact(
        None,
        "2. Enforcement Statistics",
        "Market surveillance forces in Vietnam handled 2,150 intellectual property infringement cases in 2024.",
    ),
    Fact(
        None,
        "2.1 Customs Measures",
        "Customs officers at Hai Phong port suspended the clearance of 37 shipments of suspected counterfeit goods in 2024.",
    ),
    Fact(None, "Conclusion", "Vietnam aims to cut the patent examination backlog by half before 2027."),
]


def make_docx(path: Path) -> Path:
    """A Word report: Title style, Heading 1/2, body paragraphs, a bullet list and a table."""
    import docx

    d = docx.Document()
    d.add_paragraph(DOCX_TITLE, style="Title")
    d.add_paragraph("Prepared by the Mekong Legal Research Group for foreign investors.")
    d.add_heading("1. Legal Framework", level=1)
    d.add_paragraph(
        "Vietnam protects inventions, trademarks and copyright under a single Law on Intellectual Property. "
        "The National Office of Intellectual Property handles industrial property registrations."
    )
    d.add_heading("1.1 Amendments of 2022", level=2)
    d.add_paragraph(
        "The amended Law on Intellectual Property took effect on 1 January 2023. "
        "Sound marks became registrable in Vietnam for the first time under the amended law."
    )
    d.add_paragraph("Changes that matter most to investors:")
    d.add_paragraph("Stricter rules against bad faith trademark filings.", style="List Bullet")
    d.add_paragraph("New grounds for refusing protection of geographical indications.", style="List Bullet")
    d.add_paragraph("")  # an empty paragraph, as Word documents are full of them
    d.add_heading("2. Enforcement Statistics", level=1)
    d.add_paragraph(
        "Market surveillance forces in Vietnam handled 2,150 intellectual property infringement cases in 2024. "
        "Most cases concerned counterfeit cosmetics, clothing and spare parts."
    )
    rows = [r.split(" | ") for r in DOCX_TABLE_ROWS]
    table = d.add_table(rows=len(rows), cols=len(rows[0]))
    table.style = "Table Grid"
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    d.add_heading("2.1 Customs Measures", level=2)
    d.add_paragraph(
        "Customs officers at Hai Phong port suspended the clearance of 37 shipments of suspected counterfeit "
        "goods in 2024. Right holders must record their trademarks with customs to benefit from border measures."
    )
    d.add_heading("Conclusion", level=1)
    d.add_paragraph("Vietnam aims to cut the patent examination backlog by half before 2027.")
    buf = io.BytesIO()
    d.save(buf)
    path.write_bytes(buf.getvalue())
    return path


make_docx.FACTS = DOCX_FACTS  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------
# HTML (Thailand)

HTML_TITLE = "Thailand Patent Reform 2025"
HTML_HEADINGS = [
    ("Thailand Patent Reform 2025", 1, ""),
    ("Background of the Reform", 2, ""),
    ("Key Changes", 3, ""),
    ("Enforcement", 2, ""),
]
HTML_BOILERPLATE = [
    "Home",
    "About us",
    "Subscribe",
    "We use cookies",
    "Accept all cookies",
    "All rights reserved",
    "editor@mekongipwatch.example",
    "Privacy policy",
]
HTML_FACTS = [
    Fact(
        None,
        "Thailand Patent Reform 2025",
        "The Department of Intellectual Property of Thailand announced a fast track patent examination programme in March 2025.",
    ),
    Fact(
        None,
        "Background of the Reform",
        "Thailand had a backlog of more than 15,000 pending patent applications at the end of 2024.",
    ),
    Fact(None, "Key Changes", "Design patent terms were extended from 10 to 15 years."),
    Fact(
        None,
        "Enforcement",
        "The Central Intellectual Property and International Trade Court handled 620 infringement cases in 2024.",
    ),
]

_HTML = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Thailand Patent Reform 2025 | Mekong IP Watch</title>
<meta name="description" content="News about intellectual property in the Mekong region.">
</head>
<body>
<header class="site-header">
  <a class="logo" href="/">Mekong IP Watch</a>
  <nav class="main-menu"><ul>
    <li><a href="/">Home</a></li><li><a href="/news">News</a></li><li><a href="/analysis">Analysis</a></li>
    <li><a href="/about">About us</a></li><li><a href="/subscribe">Subscribe</a></li>
  </ul></nav>
</header>
<div class="cookie-banner" id="cookie-consent" role="dialog">
  <p>We use cookies to improve your experience on our website. By continuing to browse you accept our use of cookies.</p>
  <button>Accept all cookies</button> <a href="/privacy">Privacy policy</a>
</div>
<main>
<article>
<h1>Thailand Patent Reform 2025</h1>
<p class="byline">By the editorial team, 14 April 2025</p>
<p>The Department of Intellectual Property of Thailand announced a fast track patent examination programme in March 2025.
Under the programme, applicants in <a href="/green">green technology</a> can receive a <strong>first office action</strong>
within 12 months of filing.</p>
<h2>Background of the Reform</h2>
<p>Thailand had a backlog of more than 15,000 pending patent applications at the end of 2024. The government set a
target of reducing average pendency to four years by 2027, and it hired 120 new examiners for the purpose.</p>
<p>Business groups had long complained that patents were granted only after the protected products became obsolete.
The reform therefore combines more staff with simpler formal requirements.</p>
<h3>Key Changes</h3>
<ul>
  <li>Design patent terms were extended from 10 to 15 years.</li>
  <li>Online filing became mandatory for all new applications.</li>
  <li>Petty patents can now be converted into invention patents during examination.</li>
</ul>
<p>Officials said the changes align Thai practice with the Hague Agreement on industrial designs.</p>
<h2>Enforcement</h2>
<p>The Central Intellectual Property and International Trade Court handled 620 infringement cases in 2024.
Customs officers seized 1.2 million counterfeit items at the border in the same year.</p>
<table>
  <tr><th>Year</th><th>Court cases</th><th>Items seized</th></tr>
  <tr><td>2023</td><td>580</td><td>0.9 million</td></tr>
  <tr><td>2024</td><td>620</td><td>1.2 million</td></tr>
</table>
</article>
</main>
<aside class="sidebar"><h4>Most read</h4><ul><li><a href="/a">Vietnam updates trademark fees</a></li></ul></aside>
<footer class="site-footer">
  <p>Copyright 2025 Mekong IP Watch. All rights reserved.</p>
  <p>Contact: editor@mekongipwatch.example | <a href="/privacy">Privacy policy</a></p>
</footer>
</body>
</html>
"""


def make_html(path: Path) -> Path:
    """A news page: <title>, nav menu, cookie banner, article with h1–h3, list, table, footer."""
    path.write_text(_HTML, encoding="utf-8")
    return path


make_html.FACTS = HTML_FACTS  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------
# Markdown (Malaysia)

MARKDOWN_TITLE = "Malaysia IP Handbook 2025"
MARKDOWN_HEADINGS = [
    ("Trademarks in Malaysia", 1, ""),
    ("Registration", 2, ""),
    ("Enforcement", 2, ""),
    ("Patents in Malaysia", 1, ""),
    ("Examination", 2, ""),
    ("Enforcement", 2, ""),
    ("Fees at a Glance", 2, ""),
]
MARKDOWN_FACTS = [
    Fact(
        None,
        "Registration",
        "The Intellectual Property Corporation of Malaysia registered 31,600 trademarks in 2024.",
    ),
    Fact(
        None,
        "Enforcement",
        "The Ministry of Domestic Trade conducted 1,140 raids against counterfeit sellers in 2024.",
    ),
    Fact(
        None,
        "Examination",
        "Substantive examination of a patent in Malaysia takes about 30 months on average.",
    ),
    Fact(
        None,
        "Enforcement",
        "The Intellectual Property Court in Kuala Lumpur awarded damages of 2.5 million ringgit in a pharmaceutical patent case in 2024.",
    ),
]

_MARKDOWN = """---
title: Malaysia IP Handbook 2025
author: Straits Legal Research
tags: [malaysia, trademarks, patents]
---

<!-- internal note: figures checked in March 2025 -->

# Trademarks in Malaysia

The Trademarks Act 2019 brought Malaysia into the **Madrid Protocol** and allowed
registration of *non-traditional marks* such as shapes and sounds. See the
[official guide](https://www.myipo.gov.my/en/trademarks/ "MyIPO") for details.

## Registration

The Intellectual Property Corporation of Malaysia registered 31,600 trademarks in 2024.
Applicants can file online through the `IP Online` portal and pay fees by card.

- File a clearance search before choosing a brand.
- Claim priority within **six months** of the first filing abroad.
- [x] Keep evidence of use for every class.

## Enforcement

The Ministry of Domestic Trade conducted 1,140 raids against counterfeit sellers in 2024.
Rights holders may also bring civil actions under __section 54__ of the Act.

# Patents in Malaysia

![Patent chart](chart.png)

## Examination

Substantive examination of a patent in Malaysia takes about 30 months on average.
Expedited examination is available for green technology ~~and software~~ inventions.

```bash
curl https://example.invalid/api/status   # never part of the text
```

## Enforcement

The Intellectual Property Court in Kuala Lumpur awarded damages of 2.5 million ringgit in a pharmaceutical patent case in 2024.
> Courts increasingly grant *interim injunctions* in clear cases.

## Fees at a Glance

| Service | Fee (RM) |
|:--------|---------:|
| Trademark application | 950 |
| Patent grant | 1,000 |

[myipo]: https://www.myipo.gov.my
"""
MARKDOWN_LINES = [
    "Trademarks in Malaysia",
    "The Trademarks Act 2019 brought Malaysia into the Madrid Protocol and allowed registration of "
    "non-traditional marks such as shapes and sounds. See the official guide for details.",
    "Registration",
    "The Intellectual Property Corporation of Malaysia registered 31,600 trademarks in 2024. Applicants can "
    "file online through the IP Online portal and pay fees by card.",
    "File a clearance search before choosing a brand.",
    "Claim priority within six months of the first filing abroad.",
    "Keep evidence of use for every class.",
    "Enforcement",
    "The Ministry of Domestic Trade conducted 1,140 raids against counterfeit sellers in 2024. Rights holders "
    "may also bring civil actions under section 54 of the Act.",
    "Patents in Malaysia",
    "Examination",
    "Substantive examination of a patent in Malaysia takes about 30 months on average. Expedited examination "
    "is available for green technology and software inventions.",
    "Enforcement",
    "The Intellectual Property Court in Kuala Lumpur awarded damages of 2.5 million ringgit in a "
    "pharmaceutical patent case in 2024.",
    "Courts increasingly grant interim injunctions in clear cases.",
    "Fees at a Glance",
    "Service | Fee (RM)",
    "Trademark application | 950",
    "Patent grant | 1,000",
]


def make_markdown(path: Path) -> Path:
    """A handbook: front matter, # / ## headings ("Enforcement" twice), emphasis, links, list, table."""
    path.write_text(_MARKDOWN, encoding="utf-8")
    return path


make_markdown.FACTS = MARKDOWN_FACTS  # type: ignore[attr-defined]


FACTS: dict[str, list[Fact]] = {
    "make_pdf": PDF_FACTS,
    "make_docx": DOCX_FACTS,
    "make_html": HTML_FACTS,
    "make_markdown": MARKDOWN_FACTS,
}


# ---------------------------------------------------------------------------------------------
# Small helpers for tests that look at a Converted


def headings_of(converted) -> list[tuple[str, int, str]]:
    """(text, level, number) of each heading of an ipqa.formats.Converted."""
    return [(converted.text[h.start : h.end], h.level, h.number) for h in converted.headings]


def page_of(converted, offset: int) -> int | None:
    """1-based page holding ``offset`` of the canonical text (None for unpaged formats)."""
    import bisect

    return bisect.bisect_right(converted.pages, offset) if converted.pages else None


def section_of(converted, offset: int) -> str:
    """Text of the last heading starting before ``offset`` ("" inside the untitled opening)."""
    before = [h for h in converted.headings if h.start <= offset]
    return converted.text[before[-1].start : before[-1].end] if before else ""

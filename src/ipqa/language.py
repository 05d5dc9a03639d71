"""The question's language, and the fixed lines ipqa says in it.

A script test is enough for the languages ipqa serves besides English: Hangul is ko, kana is ja,
other Han text is zh (a ja question written in kanji alone reads as zh;
the answer is the same English sentences, only the one-line notice differs). Latin-script names
inside ("PPH 是什么？") do not change the language.
"""

from __future__ import annotations

import re

LANGUAGES = ("en", "zh", "ja", "ko")
_HANGUL_CHARS = "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"
_KANA_CHARS = "\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f"
_HAN_CHARS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HANGUL = re.compile(f"[{_HANGUL_CHARS}]")
_KANA = re.compile(f"[{_KANA_CHARS}]")
_HAN = re.compile(f"[{_HAN_CHARS}]")
CJK_RUN = re.compile(f"[{_HANGUL_CHARS}{_KANA_CHARS}{_HAN_CHARS}]+")  # a stretch in any of the three
_LATIN_TERM = re.compile(r"[A-Za-z0-9][A-Za-z0-9.*&'’\-]*")

# Said with every answer to a question in that language: the quotes are the documents' English.
QUOTED_FROM_ENGLISH = {
    "zh": "以下回答引自英文文件原文。",
    "ja": "以下の回答は英語の文書からの引用です。",
    "ko": "아래 답변은 영어 문서에서 그대로 인용한 것입니다.",
}
# Said first when the documents do not answer a question in that language.
NOT_ANSWERED = {
    "zh": "文件中没有回答这个问题。",
    "ja": "文書にはこの質問への答えがありません。",
    "ko": "문서에는 이 질문에 대한 답이 없습니다.",
}
UNDERSTOOD = "English, 中文, 日本語, 한국어"


def detect(text: str) -> str:
    """'ko', 'ja', 'zh' or 'en' (every other script is treated as English)."""
    if _HANGUL.search(text):
        return "ko"
    if _KANA.search(text):
        return "ja"
    if _HAN.search(text):
        return "zh"
    return "en"


def latin_terms(text: str) -> str:
    """The Latin-script words and numbers of a question ("PPH", "GDPR", "5G", "2023"), which
    keyword search can still match in English documents."""
    return " ".join(_LATIN_TERM.findall(text))

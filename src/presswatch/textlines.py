"""Line-level rules for scraped text: headings, front matter, record text, short titles.

A line is a heading when it is short (``heading_max_chars`` / ``heading_max_words`` in
``data/extract.toml``), contains a letter, does not end with closing punctuation
(``. ! ? » : ;`` and closing quotes; an ellipsis "…" does not close a paragraph, so
"Plusieurs succès…" is a heading) and carries no photo credit ("©DR", "Crédit : ...",
such a line is a caption, i.e. a body line).
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib import resources
from typing import Any

_FRONT_MATTER = re.compile(r"\A\s*---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.S)
_KEY_VALUE = re.compile(r"^\s*([A-Za-z_][\w-]*)\s*:\s*(.*?)\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[«\"A-ZÀ-ÖØ-Þ0-9])")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
FRONT_MATTER_KEYS = ("title", "url", "published", "source", "author", "language")


@cache
def text_rules() -> dict[str, Any]:
    data = tomllib.loads(resources.files("presswatch.data").joinpath("extract.toml").read_text("utf-8"))
    rules = dict(data["text"])
    rules["credit"] = re.compile(rules["credit_pattern"])
    return rules


def is_heading(line: str) -> bool:
    rules = text_rules()
    line = line.strip()
    if not line or len(line) > rules["heading_max_chars"] or len(line.split()) > rules["heading_max_words"]:
        return False
    if not any(ch.isalpha() for ch in line) or line[-1] in rules["paragraph_endings"]:
        return False
    if line[0] in "-–—•*«\"" and not line.startswith(("…", "...")):
        return False
    return not has_credit(line)


def has_credit(line: str) -> bool:
    """A photo credit ("©DR", "Crédit : ...") marks a caption line."""
    return bool(text_rules()["credit"].search(line))


def parse_front_matter(text: str) -> tuple[dict[str, str], str]:
    """Split ``---``-delimited ``key: value`` lines off the top of ``text``."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    meta: dict[str, str] = {}
    for line in match[1].splitlines():
        pair = _KEY_VALUE.match(line)
        if not pair:
            if line.strip():
                return {}, text
            continue
        key, value = pair[1].lower(), pair[2].strip().strip("\"'")
        if key in FRONT_MATTER_KEYS and value:
            meta[key] = value
    return meta, text[match.end():]


def split_record_text(text: str) -> list[str]:
    """Lines of a record's ``text``: paragraphs split on blank lines, or else on newlines.

    In a blank-line-separated block, a leading heading line stays a line of its own and the
    remaining lines (hard-wrapped prose) are joined with spaces.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not _BLANK_LINE.search(text):
        return text.split("\n")
    lines: list[str] = []
    for block in _BLANK_LINE.split(text):
        rows = [row.strip() for row in block.split("\n") if row.strip()]
        if len(rows) > 1 and is_heading(rows[0]):
            lines.append(rows.pop(0))
        if rows:
            lines.append(" ".join(rows))
    return lines


def first_sentence(text: str) -> str:
    """The first sentence of ``text``, cut at a word boundary to ``title_max_chars``."""
    limit = text_rules()["title_max_chars"]
    sentence = _SENTENCE_END.split(text.strip(), maxsplit=1)[0]
    if len(sentence) <= limit:
        return sentence
    return sentence[:limit].rsplit(" ", 1)[0].rstrip(",;: ") + "…"

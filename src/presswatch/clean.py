"""Cleaning of an extracted article: Unicode and spaces, boilerplate lines, repeated paragraphs.

Boilerplate patterns live in ``data/boilerplate.toml``; each is matched against a whole line
after :func:`fold_text`, so a real paragraph that mentions "lire aussi" mid-sentence is kept.
Every line taken out is recorded in ``Article.removals`` with its reason.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources

from presswatch.models import Article, Paragraph, Removal, Section, normalise_text

_SPACE_CHARS = "\u00a0\u202f\u2007\u2009\u200a\u2002\u2003\u2004\u2005\u2006\u2008\u205f\u3000\t\f\v"
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_SPACES = re.compile(f"[ {_SPACE_CHARS}]+")
_LINE_BREAKS = re.compile(r"\s*(?:\r\n|\r|\n|\u2028|\u2029)\s*")
_FOLD_EXTRA = {
    "\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2032": "'", "\u00b4": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    "\u0153": "o", "\u0152": "O", "\u00e6": "a", "\u00c6": "A", "\u00df": "s",
}
_DEFINITION = re.compile(r"\{\{(\w+)\}\}")
_PUNCT_SPACING = re.compile(r"\s*([\"'():;!?,.])\s*")


@dataclass(frozen=True, slots=True)
class _Pattern:
    name: str
    regex: re.Pattern[str]
    max_chars: int


@cache
def _fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0x00C0, 0x0250):
        base = unicodedata.normalize("NFD", chr(code))[0]
        if base != chr(code) and base.isascii():
            table[code] = base
    for char in _SPACE_CHARS:
        table[ord(char)] = " "
    table.update({ord(k): v for k, v in _FOLD_EXTRA.items()})
    return table


def fold_text(text: str) -> str:
    """Drop accents, straighten quotes and dashes, plain spaces; keeps case and length.

    One character in, one character out, so a match on the folded text is a slice of the
    original: ``text[m.start():m.end()]`` is the span as published.
    """
    return text.translate(_fold_table())


def _tidy(text: str) -> str:
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    lines = (_SPACES.sub(" ", line).strip() for line in _LINE_BREAKS.split(text))
    return "\n".join(line for line in lines if line)


@cache
def _patterns() -> tuple[_Pattern, ...]:
    raw = resources.files("presswatch").joinpath("data/boilerplate.toml").read_text("utf-8")
    data = tomllib.loads(raw)
    default_max = int(data.get("settings", {}).get("max_chars", 200))
    defs = {name: fold_text(value) for name, value in data.get("defs", {}).items()}

    def expand(source: str) -> str:
        return _DEFINITION.sub(lambda m: f"(?:{defs[m[1]]})", fold_text(source))

    return tuple(
        _Pattern(
            name=str(item["name"]),
            regex=re.compile(expand(item["regex"]), re.IGNORECASE | re.DOTALL),
            max_chars=int(item.get("max_chars", default_max)),
        )
        for item in data["pattern"]
    )


def _boilerplate(line: str) -> str | None:
    folded = fold_text(line)
    for pattern in _patterns():
        if len(line) <= pattern.max_chars and pattern.regex.fullmatch(folded):
            return pattern.name
    return None


def _strip_boilerplate(text: str, removals: list[Removal]) -> str:
    kept = []
    for line in text.split("\n"):
        name = _boilerplate(line)
        if name is None:
            kept.append(line)
        else:
            removals.append(Removal(text=line, reason=f"boilerplate:{name}"))
    return "\n".join(kept)


def _duplicate_key(text: str) -> str:
    """normalise_text, also blind to the spacing around punctuation (« x » vs "x", a : b vs a: b)."""
    return _PUNCT_SPACING.sub(r"\1", normalise_text(text))


def _same(a: str, b: str) -> bool:
    def key(text: str) -> str:
        return normalise_text(text).rstrip(" .:!?…")

    return key(a) == key(b)


def clean_article(article: Article) -> Article:
    """NFC and spaces; boilerplate lines, repeated paragraphs and title headings taken out."""
    title = _tidy(article.title).replace("\n", " ")
    removals: list[Removal] = list(article.removals)
    kept_by_key: dict[str, str] = {}
    sections: list[Section] = []
    for section in article.sections:
        heading = _tidy(section.heading or "").replace("\n", " ") or None
        if heading and _boilerplate(heading):
            removals.append(Removal(text=heading, reason=f"boilerplate:{_boilerplate(heading)}"))
            heading = None
        elif heading and title and _same(heading, title):
            removals.append(Removal(text=heading, reason="heading:title"))
            heading = None
        paragraphs: list[Paragraph] = []
        for paragraph in section.paragraphs:
            text = _strip_boilerplate(_tidy(paragraph.text), removals)
            if not text:
                continue
            key = _duplicate_key(text)
            if key in kept_by_key:
                removals.append(
                    Removal(text=text, reason="duplicate", kept_id=kept_by_key[key], similarity=1.0)
                )
                continue
            kept_by_key[key] = paragraph.id
            paragraphs.append(replace(paragraph, text=text))
        if heading is None and sections:
            previous = sections[-1]
            sections[-1] = replace(previous, paragraphs=previous.paragraphs + tuple(paragraphs))
        else:
            sections.append(Section(heading=heading, paragraphs=tuple(paragraphs)))
    position = iter(range(len(article.paragraphs)))
    renumbered = tuple(
        Section(s.heading, tuple(replace(p, position=next(position)) for p in s.paragraphs))
        for s in sections
        if s.paragraphs
    )
    return replace(article, title=title, sections=renumbered, removals=tuple(removals))

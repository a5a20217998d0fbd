"""Frozen dataclasses passed between the stages, and the stable ids that name them.

A stage takes one of these and returns a new one (``dataclasses.replace``); nothing is
mutated in place, so any stage can run in another process.
"""

from __future__ import annotations

import calendar
import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

Label = Literal["success", "improvement", "context"]
LABELS: tuple[Label, ...] = ("success", "improvement", "context")

_QUOTES = str.maketrans(
    {
        "\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00b4": "'", "`": "'",
        "\u201c": '"', "\u201d": '"', "\u00ab": '"', "\u00bb": '"', "\u201e": '"',
        "\u2013": "-", "\u2014": "-", "\u2026": "...",
        "\u00a0": " ", "\u202f": " ", "\u2009": " ",
    }
)
_SPACES = re.compile(r"\s+")


def normalise_text(text: str) -> str:
    """Fold case, Unicode form, quotes, apostrophes, dashes and spaces, for matching only."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold()
    return _SPACES.sub(" ", text).strip()


def stable_id(*parts: str) -> str:
    """A short hex id that depends only on the given parts."""
    digest = hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:16]


def paragraph_id(article_url: str, text: str) -> str:
    return stable_id(article_url, normalise_text(text))


def article_id(url: str) -> str:
    return stable_id(url)


@dataclass(frozen=True, slots=True)
class RawDocument:
    """Bytes as read from a file or fetched from the web, before extraction."""

    uri: str
    body: bytes
    source: str
    content_type: str | None = None
    meta: Mapping[str, str] = field(default_factory=dict)
    fetched_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Paragraph:
    id: str
    text: str
    position: int


@dataclass(frozen=True, slots=True)
class Section:
    heading: str | None
    paragraphs: tuple[Paragraph, ...]


@dataclass(frozen=True, slots=True)
class Removal:
    """A line or paragraph taken out of an article body, and why."""

    text: str
    reason: str
    kept_id: str | None = None
    similarity: float | None = None


@dataclass(frozen=True, slots=True)
class Article:
    id: str
    url: str
    title: str
    source: str
    published: date | None
    sections: tuple[Section, ...]
    author: str | None = None
    canonical_url: str | None = None
    date_source: str | None = None
    declared_language: str | None = None
    removals: tuple[Removal, ...] = ()
    language: str | None = None
    relevant: bool | None = None
    topics: tuple[str, ...] = ()
    origin: str = ""

    @property
    def paragraphs(self) -> tuple[Paragraph, ...]:
        return tuple(p for s in self.sections for p in s.paragraphs)

    @property
    def body_text(self) -> str:
        return "\n\n".join(p.text for p in self.paragraphs)

    @property
    def content_hash(self) -> str:
        return stable_id(normalise_text(self.title), normalise_text(self.body_text))


@dataclass(frozen=True, slots=True)
class Classification:
    paragraph_id: str
    label: Label
    score: float
    cues: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ParagraphFacts:
    """What a reader looks for in a paragraph: programmes named, figures, quotes."""

    paragraph_id: str
    programmes: tuple[str, ...] = ()
    figures: tuple[str, ...] = ()
    quotes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Failure:
    """A document or source that could not be processed; shown in the data-quality section."""

    source: str
    uri: str
    stage: str
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Period:
    """An ISO week (``2022-W38``) or a calendar month (``2022-09``); ``end`` is exclusive."""

    kind: Literal["week", "month"]
    key: str
    start: date
    end: date

    @classmethod
    def parse(cls, text: str) -> Period:
        text = text.strip()
        week = re.fullmatch(r"(\d{4})-W(\d{2})", text)
        if week:
            year, number = int(week[1]), int(week[2])
            start = date.fromisocalendar(year, number, 1)
            return cls("week", f"{year}-W{number:02d}", start, start + timedelta(days=7))
        month = re.fullmatch(r"(\d{4})-(\d{2})", text)
        if month and 1 <= int(month[2]) <= 12:
            year, number = int(month[1]), int(month[2])
            days = calendar.monthrange(year, number)[1]
            start = date(year, number, 1)
            return cls("month", f"{year}-{number:02d}", start, start + timedelta(days=days))
        raise ValueError(f"not a period: {text!r} (expected 2022-W38 or 2022-09)")

    @classmethod
    def containing(cls, kind: Literal["week", "month"], day: date) -> Period:
        if kind == "week":
            year, week, _ = day.isocalendar()
            return cls.parse(f"{year}-W{week:02d}")
        return cls.parse(f"{day.year}-{day.month:02d}")

    def previous(self) -> Period:
        return Period.containing(self.kind, self.start - timedelta(days=1))

    def __contains__(self, day: date) -> bool:
        return self.start <= day < self.end


@dataclass(frozen=True, slots=True)
class DigestItem:
    """One statement in a digest, with everything needed to check it at its source."""

    paragraph_id: str
    article_id: str
    label: Label
    score: float
    cues: tuple[str, ...]
    text: str
    excerpt: str
    heading: str | None
    article_title: str
    outlet: str
    published: date | None
    url: str
    link: str
    programmes: tuple[str, ...] = ()
    figures: tuple[str, ...] = ()
    quotes: tuple[str, ...] = ()
    also_in: tuple[str, ...] = ()
    first_reported: date | None = None
    updates: str | None = None


@dataclass(frozen=True, slots=True)
class DigestArticle:
    id: str
    title: str
    outlet: str
    published: date | None
    url: str
    successes: int
    improvements: int
    also_in: tuple[str, ...] = ()
    story_id: str | None = None
    canonical_id: str | None = None


@dataclass(frozen=True, slots=True)
class DataQuality:
    duplicates_removed: int
    boilerplate_removed: int
    non_french: tuple[DigestArticle, ...]
    off_topic: tuple[DigestArticle, ...]
    failures: tuple[Failure, ...]
    removals_by_reason: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Digest:
    period: Period
    generated_at: datetime
    successes: tuple[DigestItem, ...]
    improvements: tuple[DigestItem, ...]
    articles: tuple[DigestArticle, ...]
    quality: DataQuality
    counts: Mapping[str, int] = field(default_factory=dict)
    programmes: tuple[tuple[str, tuple[DigestItem, ...], tuple[DigestItem, ...]], ...] = ()

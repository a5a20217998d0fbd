"""Is an article about French digital health? Topics and a scored decision from data/taxonomy.toml.

Digital score: the summed weights of the distinct taxonomy entries named in the title and
body. Health terms: how many distinct general health words appear. The ``[relevance]`` rules
of the taxonomy combine the two, so a sports or cooking piece, or a political piece that says
"santé" once, is not relevant, while a trade-press article naming one programme is.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Any

from presswatch.clean import fold_text
from presswatch.models import Article

_SHOUT_WINDOW = 30
_SHOUT_MIN_LETTERS = 8
_SHOUT_RATIO = 0.8


@dataclass(frozen=True, slots=True)
class Term:
    name: str
    kind: str
    weight: float
    regexes: tuple[re.Pattern[str], ...]
    acronyms: tuple[re.Pattern[str], ...]


@dataclass(frozen=True, slots=True)
class Rule:
    digital: float
    health: int


@dataclass(frozen=True, slots=True)
class Taxonomy:
    entries: tuple[Term, ...]
    health: tuple[Term, ...]
    rules: tuple[Rule, ...]


def _alias_regex(alias: str) -> str:
    parts = []
    for char in fold_text(alias.strip()):
        if char == " ":
            parts.append(r"[\s-]*")
        elif char == "-":
            parts.append(r"[\s-]?")
        elif char == "'":
            parts.append(r"'?\s*")
        else:
            parts.append(re.escape(char))
    return r"(?<!\w)" + "".join(parts) + r"(?:s|x)?(?!\w)"


def _term(item: Mapping[str, Any], kind: str) -> Term:
    regexes = [re.compile(_alias_regex(a), re.IGNORECASE) for a in item.get("aliases", ())]
    regexes += [re.compile(fold_text(p), re.IGNORECASE) for p in item.get("patterns", ())]
    acronyms = tuple(
        re.compile(r"(?<!\w)" + re.escape(fold_text(a)) + r"(?!\w)") for a in item.get("acronyms", ())
    )
    return Term(str(item["name"]), str(item.get("kind", kind)), float(item.get("weight", 1)),
                tuple(regexes), acronyms)


@cache
def load_taxonomy() -> Taxonomy:
    raw = resources.files("presswatch").joinpath("data/taxonomy.toml").read_text("utf-8")
    data = tomllib.loads(raw)
    rules = tuple(Rule(float(r["digital"]), int(r["health"])) for r in data["relevance"]["rules"])
    return Taxonomy(
        entries=tuple(_term(item, "theme") for item in data["entry"]),
        health=tuple(_term(item, "health") for item in data.get("health", ())),
        rules=rules,
    )


def _shouting(folded: str, start: int, end: int) -> bool:
    around = folded[max(0, start - _SHOUT_WINDOW):start] + folded[end:end + _SHOUT_WINDOW]
    letters = [c for c in around if c.isalpha()]
    if len(letters) < _SHOUT_MIN_LETTERS:
        return False
    return sum(c.isupper() for c in letters) / len(letters) >= _SHOUT_RATIO


def _hits(folded: str, terms: Iterable[Term]) -> list[tuple[int, int, Term]]:
    hits: list[tuple[int, int, Term]] = []
    for term in terms:
        for regex in term.regexes:
            hits.extend((m.start(), m.end(), term) for m in regex.finditer(folded) if m.end() > m.start())
        for regex in term.acronyms:
            hits.extend(
                (m.start(), m.end(), term)
                for m in regex.finditer(folded)
                if not _shouting(folded, m.start(), m.end())
            )
    kept: list[tuple[int, int, Term]] = []
    for hit in sorted(hits, key=lambda h: (h[0] - h[1], h[0])):
        if all(hit[1] <= k[0] or hit[0] >= k[1] for k in kept):
            kept.append(hit)
    return sorted(kept, key=lambda h: (h[0], h[0] - h[1]))


def _distinct(hits: list[tuple[int, int, Term]]) -> tuple[Term, ...]:
    seen: dict[str, Term] = {}
    for _, _, term in hits:
        seen.setdefault(term.name, term)
    return tuple(seen.values())


def match_topics(text: str) -> tuple[str, ...]:
    """Canonical names of the taxonomy entries named in ``text``, by first occurrence."""
    return tuple(t.name for t in _distinct(_hits(fold_text(text), load_taxonomy().entries)))


def assess_relevance(article: Article) -> Article:
    """Set ``topics`` (taxonomy names by first occurrence) and ``relevant`` (the scored rule)."""
    taxonomy = load_taxonomy()
    parts = [article.title]
    for section in article.sections:
        parts.append(section.heading or "")
        parts.extend(p.text for p in section.paragraphs)
    folded = fold_text("\n".join(parts))
    topics = _distinct(_hits(folded, taxonomy.entries))
    health = len(_distinct(_hits(folded, taxonomy.health)))
    digital = sum(t.weight for t in topics)
    relevant = any(digital >= r.digital and health >= r.health for r in taxonomy.rules)
    return replace(article, relevant=relevant, topics=tuple(t.name for t in topics))

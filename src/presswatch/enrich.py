"""Facts a reader looks for in each paragraph: programmes named, figures, quotes.

Programmes come from the relevance matcher (data/taxonomy.toml); figures and quotes from the
lexicons of data/enrich.toml. Figures and quotes are returned as published: matching runs on
``clean.fold_text``, which keeps one character per character, so spans map back exactly.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from presswatch.clean import fold_text
from presswatch.models import Article, ParagraphFacts
from presswatch.relevance import match_topics

_WORD = r"[^\W\d_]+(?:-[^\W\d_]+)*"
_NUMBER = r"(?<![\w°,.+-])[+-]?(?:\d{1,3}(?:[ .]\d{3})+|\d+)(?:[.,]\d+)?"
_YEAR = re.compile(r"(?:19|20)\d\d")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class _Lexicon:
    number: re.Pattern[str]
    unit: re.Pattern[str]
    scale: re.Pattern[str]
    duration: re.Pattern[str]
    complement: re.Pattern[str]
    noun: re.Pattern[str]
    pair: re.Pattern[str]
    next_word: re.Pattern[str]
    not_nouns: frozenset[str]
    adjective_endings: tuple[str, ...]
    quote_pairs: tuple[tuple[str, str], ...]
    min_quote_words: int


def _alternatives(words: list[str]) -> str:
    folded = sorted({fold_text(w) for w in words}, key=len, reverse=True)
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in folded)


@cache
def _lexicon() -> _Lexicon:
    raw = resources.files("presswatch").joinpath("data/enrich.toml").read_text("utf-8")
    data = tomllib.loads(raw)
    fig, quotes = data["figures"], data["quotes"]
    numbers = _alternatives(fig["number_words"])
    approx = f"(?:{_alternatives(fig['approximation_determiners'])})\\s+(?:{_alternatives(fig['approximations'])})"
    flags = re.IGNORECASE
    return _Lexicon(
        number=re.compile(f"{_NUMBER}|(?<!\\w)(?:{approx}|{numbers})(?!\\w)", flags),
        unit=re.compile(f"\\s?(?:{_alternatives(fig['units'])})(?!\\w)", flags),
        scale=re.compile(f"\\s+(?:{_alternatives(fig['scales'])})(?!\\w)", flags),
        duration=re.compile(f"\\s+(?:{_alternatives(fig['durations'])})(?!\\w)", flags),
        complement=re.compile(f"\\s+(?:(?:des|du|de)\\s+|d')(?={_WORD})", flags),
        noun=re.compile(f"\\s*({_WORD})"),
        pair=re.compile(f"\\s+(?:et|ou)\\s+({_WORD})", flags),
        next_word=re.compile(f"\\s+({_WORD})"),
        not_nouns=frozenset(fold_text(w).casefold() for w in fig["stopwords"] + fig["months"]),
        adjective_endings=tuple(fig["adjective_endings"]),
        quote_pairs=tuple((a, b) for a, b in quotes["pairs"]),
        min_quote_words=int(quotes["min_words"]),
    )


def _is_noun(lex: _Lexicon, word: str) -> bool:
    if word.casefold() in lex.not_nouns or len(word) < 2:
        return False
    return word.islower() or word.isupper()


def _noun_phrase(lex: _Lexicon, folded: str, text: str, pos: int, *, leading: re.Pattern[str]) -> int:
    """End of a noun (plus 'et <noun>' and one adjective) starting at pos, or pos if none."""
    m = leading.match(folded, pos)
    if not m or not _is_noun(lex, m[1]):
        return pos
    end, noun = m.end(), m[1]
    pair = lex.pair.match(folded, end)
    if pair and _is_noun(lex, pair[1]) and noun[-1:] in "sx" and pair[1][-1:] in "sx":
        end = pair.end()
    adjective = lex.next_word.match(folded, end)
    if adjective and _is_noun(lex, adjective[1]) and adjective[1].islower():
        if text[adjective.start(1):adjective.end(1)].endswith(lex.adjective_endings):
            end = adjective.end()
    return end


def _complemented(lex: _Lexicon, folded: str, text: str, pos: int) -> int | None:
    """End of 'de/des/d' <noun phrase>' starting at pos, or None."""
    complement = lex.complement.match(folded, pos)
    if not complement:
        return None
    phrase = _noun_phrase(lex, folded, text, complement.end(), leading=lex.noun)
    return phrase if phrase > complement.end() else None


def _figure_end(lex: _Lexicon, folded: str, text: str, start: int, end: int) -> int | None:
    digits = folded[start:end][-1:].isdigit()
    approximate = not digits and " " in folded[start:end].strip()
    unit = lex.unit.match(folded, end)
    if unit:
        after = unit.end()
        if folded[end:after].strip() == "%":
            return _complemented(lex, folded, text, after) or after
        return after
    if folded[end:end + 1].isalnum():
        return None
    scale = lex.scale.match(folded, end)
    if scale:
        unit = lex.unit.match(folded, scale.end())
        if unit:
            return unit.end()
        return _complemented(lex, folded, text, scale.end()) or scale.end()
    if approximate:
        return _complemented(lex, folded, text, end)
    duration = lex.duration.match(folded, end)
    if duration:
        return duration.end()
    if not digits or _YEAR.fullmatch(folded[start:end]):
        return None
    phrase = _noun_phrase(lex, folded, text, end, leading=lex.next_word)
    return phrase if phrase > end else None


def find_figures(text: str) -> tuple[str, ...]:
    lex = _lexicon()
    folded = fold_text(text)
    found: list[str] = []
    cursor = 0
    for m in lex.number.finditer(folded):
        if m.start() < cursor:
            continue
        end = _figure_end(lex, folded, text, m.start(), m.end())
        if end is None:
            continue
        figure = text[m.start():end].strip()
        cursor = end
        if figure not in found:
            found.append(figure)
    return tuple(found)


def find_quotes(text: str) -> tuple[str, ...]:
    lex = _lexicon()
    spans: list[tuple[int, int]] = []
    for opening, closing in lex.quote_pairs:
        pos = 0
        while (start := text.find(opening, pos)) != -1:
            stop = text.find(closing, start + 1)
            stop = len(text) if stop == -1 else stop
            if not any(a <= start < b for a, b in spans):
                spans.append((start + len(opening), stop))
            pos = stop + 1
    quotes = []
    for a, b in sorted(spans):
        quote = _SPACES.sub(" ", text[a:b]).strip()
        words = [w for w in quote.split() if any(c.isalpha() for c in w)]
        if len(words) >= lex.min_quote_words and quote not in quotes:
            quotes.append(quote)
    return tuple(quotes)


def enrich_paragraphs(article: Article) -> tuple[ParagraphFacts, ...]:
    """One ParagraphFacts per paragraph, in body order."""
    return tuple(
        ParagraphFacts(
            paragraph_id=p.id,
            programmes=match_topics(p.text),
            figures=find_figures(p.text),
            quotes=find_quotes(p.text),
        )
        for p in article.paragraphs
    )

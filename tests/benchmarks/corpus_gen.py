"""Seeded generator of a labelled French paragraph stream for the dedup benchmark and tests.

The stream is made of articles (4-7 paragraphs). Every paragraph carries its ground truth:

- ``family``: paragraphs of one family are true near-duplicates of each other;
- ``role``: base | exact | near_exact | word_changed | sentence_added | sentence_dropped
  (same family as their source) | figure_variant (new family: the same text with one figure
  changed; expected ``figure_update``) | same_programme (new family: other facts on the same
  programme);
- ``hard_of``: for the two hard-negative roles, the family they must NOT be merged with.

Duplicates come from recent paragraphs of other articles (cross-article repeats), from
syndicated articles (a whole earlier article copied with small edits) and from interleaved
repeats inside one article (p1 p2 p1' p2'). Same seed -> same stream.
"""

from __future__ import annotations

import json
import random
import re
import tomllib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

DUP_ROLES = ("exact", "near_exact", "word_changed", "sentence_added", "sentence_dropped")
_SWAPS = ["important", "notable", "nouveau", "récent", "national", "régional", "majeur", "discret", "rapide", "lent"]
_NUMBER = re.compile(r"\d+")
_WORD = re.compile(r"[a-zéèêàâîôûç]{5,}")
_ELISIONS = ((" de le ", " du "), (" à le ", " au "), (" de les ", " des "), (" à les ", " aux "))
_FIGURE_WORDS = {"millions", "milliards", "janvier", "février", "avril", "juillet", "septembre", "octobre",
                 "novembre", "décembre", "première", "premier", "deux", "quatre", "trente"}


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    text: str
    article: int
    family: int
    role: str
    hard_of: int = -1


@dataclass
class _Base:
    family: int
    programme: str
    sentences: list[str]
    parent: int = -1
    changed: int = -1


def _material() -> dict:
    text = resources.files("presswatch").joinpath("data/dedup/bench_corpus.toml").read_text("utf-8")
    return tomllib.loads(text)


class _Writer:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.m = _material()
        self.fixed = [re.split(r"(?<=\.) ", p) for p in self.m["base_paragraphs"]]
        self.relabel: int | None = None
        self.figure_texts: set[str] = set()

    def sentence(self, programme: str) -> str:
        r, m = self.rng, self.m
        actor = r.choice(m["actors"])
        text = r.choice(m["templates"]).format(
            actor=actor, actor_cap=actor[0].upper() + actor[1:], programme=programme,
            good=r.choice(m["good"]), bad=r.choice(m["bad"]), reason=r.choice(m["reasons"]),
            place=r.choice(m["places"]), group=r.choice(m["groups"]), unit=r.choice(m["units"]),
            month=r.choice(m["months"]), year=r.randint(2019, 2026), n1=f"{r.randint(2, 950) * 100:,}".replace(",", " "),
            n2=r.randint(3, 97), n3=r.randint(2, 900), n4=r.randint(1, 60), n5=r.randint(3, 80), n6=r.randint(2, 36),
        )
        for wrong, right in _ELISIONS:
            text = text.replace(wrong, right)
        return text

    def base(self, family: int, programme: str | None = None) -> _Base:
        if programme is None and family < len(self.fixed):
            return _Base(family, "", list(self.fixed[family]))
        programme = programme or self.rng.choice(self.m["programmes"])
        sentences = [self.sentence(programme) for _ in range(self.rng.randint(3, 5))]
        sentences[0] = sentences[0][0].upper() + sentences[0][1:]
        return _Base(family, programme, sentences)

    def variant(self, base: _Base, role: str) -> str | None:
        """A variant of ``base``; sets ``relabel`` when it is a true duplicate of another family
        (dropping the one sentence whose figure a figure variant changed gives back its parent)."""
        r, s = self.rng, list(base.sentences)
        self.relabel = None
        if role == "near_exact":
            text = " ".join(s).replace("'", "\u2019")
            text = text.replace(". ", ".  ", 1).replace(" %", "\u202f%").replace(", ", " , ", 1)
            return (text[:-1] + " !") if r.random() < 0.3 else text + " "
        if role == "word_changed":
            for _ in range(10):
                k = r.randrange(len(s))
                words = [w for w in _WORD.findall(s[k]) if w not in _FIGURE_WORDS]
                if words:
                    old = r.choice(words)
                    s[k] = re.sub(rf"\b{re.escape(old)}\b", r.choice(_SWAPS), s[k], count=1)
                    return " ".join(s)
            return None
        if role == "sentence_added":
            s.insert(r.randint(1, len(s)), self.sentence(base.programme or r.choice(self.m["programmes"])))
            return " ".join(s)
        if role == "sentence_dropped":
            if len(s) < 3:
                return None
            k = r.randrange(len(s))
            if k == base.changed:
                self.relabel = base.parent
            del s[k]
            return " ".join(s)
        if role == "figure_variant":
            spots = [(k, m) for k, sent in enumerate(s) for m in _NUMBER.finditer(sent)]
            if not spots:
                return None
            k, m = r.choice(spots)
            value = int(m.group())
            s[k] = s[k][: m.start()] + str(value + r.choice([1, 2, 3, 5, 10])) + s[k][m.end():]
            text = " ".join(s)
            if text in self.figure_texts:
                return None
            self.figure_texts.add(text)
            self.relabel = k
            return text
        return " ".join(s)


def generate(n: int, seed: int = 7) -> Iterator[Item]:
    """Yield ``n`` labelled paragraphs in stream order."""
    w = _Writer(seed)
    r = w.rng
    recent: deque[_Base] = deque(maxlen=3000)
    articles: deque[list[_Base]] = deque(maxlen=300)
    count, family, article = 0, 0, 0

    def new_base(programme: str | None = None) -> _Base:
        nonlocal family
        b = w.base(family, programme)
        family += 1
        recent.append(b)
        return b

    while count < n:
        article += 1
        out: list[Item] = []
        made: list[_Base] = []
        if articles and r.random() < 0.06:
            for b in r.choice(articles):
                role = r.choices(DUP_ROLES, weights=[3, 5, 2, 1, 1])[0]
                text = w.variant(b, role)
                fam = b.family if w.relabel is None else w.relabel
                if text is None:
                    text, role, fam = " ".join(b.sentences), "exact", b.family
                out.append(Item("", text, article, fam, role))
                made.append(b)
        else:
            for _ in range(r.randint(4, 7)):
                x = r.random()
                if recent and x < 0.22:
                    src = r.choice(recent)
                    role = r.choice(DUP_ROLES)
                    text = w.variant(src, role)
                    if text is not None:
                        out.append(Item("", text, article, src.family if w.relabel is None else w.relabel, role))
                        continue
                if recent and x < 0.27:
                    src = r.choice(recent)
                    text = w.variant(src, "figure_variant")
                    if text is not None:
                        b = _Base(family, src.programme, re.split(r"(?<=\.) ", text), src.family, w.relabel or 0)
                        family += 1
                        recent.append(b)
                        out.append(Item("", text, article, b.family, "figure_variant", src.family))
                        continue
                if recent and x < 0.31:
                    src = r.choice(recent)
                    if src.programme:
                        b = new_base(src.programme)
                        out.append(Item("", " ".join(b.sentences), article, b.family, "same_programme", src.family))
                        continue
                b = new_base()
                made.append(b)
                out.append(Item("", " ".join(b.sentences), article, b.family, "base"))
            if len(made) >= 2 and r.random() < 0.1:
                for b in made[:2]:
                    role = r.choice(("exact", "near_exact", "word_changed"))
                    out.append(Item("", w.variant(b, role) or " ".join(b.sentences), article, b.family, role))
        if made:
            articles.append(made)
        for it in out:
            if count >= n:
                return
            yield Item(f"p{count:07d}", it.text, it.article, it.family, it.role, it.hard_of)
            count += 1


def write_jsonl(path: Path, n: int, seed: int = 7) -> list[tuple[int, int, str]]:
    """Write ``{"id", "text"}`` lines; return the labels (family, hard_of, role) in order."""
    labels = []
    with path.open("w", encoding="utf-8") as fh:
        for it in generate(n, seed):
            fh.write(json.dumps({"id": it.id, "text": it.text}, ensure_ascii=False) + "\n")
            labels.append((it.family, it.hard_of, it.role))
    return labels

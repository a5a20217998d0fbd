"""Bytes to text the way a browser would, then mojibake repair.

Order of evidence: a byte-order mark, then the HTTP ``Content-Type`` charset, then the
document's own ``<meta charset>`` / ``http-equiv`` declaration, then strict UTF-8, then
statistical detection (charset-normalizer; a Latin single-byte guess becomes windows-1252,
the code page of French web text, when it decodes), then windows-1252. Labels are mapped as WHATWG
does (``iso-8859-1``, ``latin-1`` and ``ascii`` all mean windows-1252). When the header's
charset cannot decode the bytes strictly but the meta charset can, the meta charset wins
and ``how`` says so. Mojibake left in the text ("Ã©" for "é") is then repaired with ftfy,
line by line, only on lines ftfy judges broken; ``repaired`` counts the lines changed.
"""

from __future__ import annotations

import codecs
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

import charset_normalizer
import ftfy
from ftfy.badness import is_bad

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([\w.:-]+)""", re.I)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.I)
_FTFY = ftfy.TextFixerConfig(
    unescape_html=False, remove_terminal_escapes=False, fix_latin_ligatures=False,
    fix_character_width=False, uncurl_quotes=False, fix_line_breaks=False,
    fix_surrogates=False, remove_control_chars=False, normalization=None, explain=False,
)


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str
    how: str
    repaired: int = 0


@cache
def _aliases() -> dict[str, str]:
    data = tomllib.loads(resources.files("presswatch.data").joinpath("extract.toml").read_text("utf-8"))
    return dict(data["encoding"]["aliases"])


def codec_name(label: str | None) -> str | None:
    """The Python codec for a charset label, with WHATWG aliases; None if unknown."""
    if not label:
        return None
    label = label.strip().lower()
    label = _aliases().get(label, label)
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return _aliases().get(name, name)


def decode_bytes(body: bytes, content_type: str | None = None) -> Decoded:
    """Decode ``body`` (see the module docstring for the order) and repair mojibake."""
    text, encoding, how = _decode(body, content_type)
    text, repaired = _repair(text.replace("\ufeff", "", 1) if text.startswith("\ufeff") else text)
    return Decoded(text, encoding, how, repaired)


def _decode(body: bytes, content_type: str | None) -> tuple[str, str, str]:
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(name, errors="replace"), name, "bom"
    header = _header_charset(content_type)
    meta = _meta_charset(body)
    if header:
        text = _strict(body, header)
        if text is not None:
            note = f" (meta said {meta})" if meta and meta != header else ""
            return text, header, f"http-header{note}"
        if meta:
            text = _strict(body, meta)
            if text is not None:
                return text, meta, f"meta (header charset {header} failed to decode)"
    elif meta:
        text = _strict(body, meta)
        if text is not None:
            return text, meta, "meta"
    text = _strict(body, "utf-8")
    if text is not None:
        return text, "utf-8", "utf-8"
    best = charset_normalizer.from_bytes(body).best()
    detected = codec_name(best.encoding) if best is not None else None
    if detected and detected != "cp1252" and _single_byte_latin(detected):
        text = _strict(body, "cp1252")
        if text is not None:
            return text, "cp1252", f"detected (cp1252 preferred to {detected})"
    if detected:
        text = _strict(body, detected)
        if text is not None:
            return text, detected, "detected"
    return body.decode("cp1252", errors="replace"), "cp1252", "fallback"


def _strict(body: bytes, encoding: str) -> str | None:
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _single_byte_latin(name: str) -> bool:
    return name.startswith(("cp125", "iso8859", "latin", "mac_", "cp850", "cp437"))


def _header_charset(content_type: str | None) -> str | None:
    match = _HEADER_CHARSET.search(content_type or "")
    return codec_name(match[1]) if match else None


def _meta_charset(body: bytes) -> str | None:
    match = _META_CHARSET.search(body[:8192])
    return codec_name(match[1].decode("ascii", "ignore")) if match else None


def _repair(text: str) -> tuple[str, int]:
    if text.isascii():
        return text, 0
    lines = text.split("\n")
    repaired = 0
    for i, line in enumerate(lines):
        if line.isascii() or not is_bad(line):
            continue
        fixed = ftfy.fix_text(line, _FTFY)
        if fixed != line:
            lines[i] = fixed
            repaired += 1
    return ("\n".join(lines), repaired) if repaired else (text, 0)

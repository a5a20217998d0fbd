import unicodedata

import numpy as np
import pytest

from presswatch import candidates as cd
from presswatch import minhash as mh

TEXT = (
    "Le Ségur du numérique finance la mise à jour des logiciels utilisés par les hôpitaux et les "
    "cabinets de ville. Les éditeurs doivent être référencés avant de toucher le forfait prévu."
)
OTHER = (
    "La messagerie sécurisée compte désormais des centaines de milliers de boîtes aux lettres, "
    "mais beaucoup de médecins disent encore recevoir des courriers papier chaque semaine."
)


def _rows(sh: mh.Shingled) -> list[list[int]]:
    return [sh.shingles[sh.offsets[i] : sh.offsets[i + 1]].tolist() for i in range(len(sh))]


def test_decomposed_accents_and_other_scripts_give_the_same_shingles_as_alone():
    nfd = unicodedata.normalize("NFD", TEXT)
    assert nfd != TEXT
    plain = mh.shingle_texts([TEXT, OTHER])
    general = mh.shingle_texts([nfd, OTHER, "数字健康 😀 " + OTHER])
    assert _rows(general)[:2] == _rows(plain)
    assert len(_rows(general)[2]) == len(_rows(plain)[1]) + 2


def test_case_accents_spaces_and_punctuation_do_not_change_shingles_but_a_word_does():
    loud = TEXT.upper().replace("é", "e").replace(" ", "  ").replace(".", " !")
    rows = _rows(mh.shingle_texts([TEXT, loud, TEXT.replace("forfait", "montant")]))
    assert rows[0] == rows[1]
    assert rows[0] != rows[2]


def test_a_nul_inside_a_text_is_a_separator_and_keeps_texts_apart():
    rows = _rows(mh.shingle_texts([TEXT.replace(" ", "\x00"), OTHER, ""]))
    assert rows[:2] == _rows(mh.shingle_texts([TEXT, OTHER]))
    assert rows[2] == []


def test_figures_are_masked_in_shingles_and_kept_apart():
    sh = mh.shingle_texts(["Plus de 15 millions de comptes en mars 2024.", "Plus de 16 millions de comptes en mai 2024."])
    rows = _rows(sh)
    assert rows[0] == rows[1]
    assert sh.figure_tuple(0) != sh.figure_tuple(1)
    assert len(sh.figure_tuple(0)) == 4


def test_signature_bins_agree_about_as_often_as_the_jaccard_similarity():
    rng = np.random.default_rng(5)
    words = [f"mot{k}" for k in range(400)]
    texts = []
    for _ in range(40):
        base = list(rng.choice(words, 120))
        edited = base[:]
        for k in rng.choice(len(edited), 12, replace=False):
            edited[k] = str(rng.choice(words))
        texts += [" ".join(base), " ".join(edited)]
    sh = mh.shingle_texts(texts)
    sig = mh.signatures(sh)
    rows = _rows(sh)
    gaps = []
    for i in range(0, len(texts), 2):
        a, b = set(rows[i]), set(rows[i + 1])
        gaps.append((sig[i] == sig[i + 1]).mean() - len(a & b) / len(a | b))
    assert abs(np.mean(gaps)) < 0.03
    assert np.max(np.abs(gaps)) < 0.2


def test_signatures_are_densified_and_empty_texts_stay_empty():
    sh = mh.shingle_texts(["un deux", "Trois mots ici", "", TEXT])
    sig = mh.signatures(sh)
    assert sig.shape == (4, 128)
    assert (sig[2] == np.uint32(0xFFFFFFFF)).all()
    assert (sig[[0, 1, 3]] != np.uint32(0xFFFFFFFF)).all()
    assert len(set(sig[1].tolist())) <= len(_rows(sh)[1]) * 3
    again = mh.signatures(mh.shingle_texts(["Trois mots ici"]))
    assert (again[0] == sig[1]).all()


def test_signatures_do_not_depend_on_the_chunking():
    texts = [f"{TEXT} numéro {k} {OTHER[: k * 7]}" for k in range(30)]
    sh = mh.shingle_texts(texts)
    assert (mh.signatures(sh, rows=7) == mh.signatures(sh)).all()


def test_powers_by_doubling_are_the_powers():
    pw, ipw = mh._powers(70000)
    for i in (0, 1, 2, 12345, 65535, 69999):
        assert int(pw[i]) == pow(mh._BASE, i, 2**32)
        assert int(pw[i]) * int(ipw[i]) % 2**32 == 1


def test_the_fast_fold_table_sends_composing_and_wide_characters_to_the_general_path():
    full, fast = mh._fold_full(), mh._fold_fast()
    for ch in ("\u0301", "\u0327", "\u1161", "\u212b", "\u1e9b", "\ud83d", "\u3000", "\uac00", "\u0915"):
        assert fast[ord(ch)] == 0xFFFF, hex(ord(ch))
    for ch, folded in (("É", "e"), ("œ", "œ"), ("’", "\x00"), ("\u202f", "\x00"), ("7", "7"), ("Ж", "ж")):
        assert fast[ord(ch)] == full[ord(ch)] == ord(folded)
    kept = np.flatnonzero(fast != 0xFFFF)
    assert (fast[kept] == full[kept]).all()


def test_every_second_part_of_a_decomposition_in_the_fast_ranges_is_a_combining_mark():
    seconds = set()
    for c in range(mh._LIMIT):
        parts = unicodedata.decomposition(chr(c)).split()
        if parts and not parts[0].startswith("<"):
            seconds.update(int(x, 16) for x in parts[1:])
    fast = [c for c in seconds if any(lo <= c < hi for lo, hi in mh._FAST_RANGES)]
    assert fast and all(unicodedata.combining(chr(c)) for c in fast)


@pytest.mark.parametrize("heavy", [5, 60, 2**32])
def test_band_table_added_in_blocks_answers_like_one_table(heavy):
    rng = np.random.default_rng(heavy % 1000)
    blocks = [rng.integers(0, heavy, (int(rng.integers(0, 40)), 4), dtype=np.uint64).astype(np.uint32)
              for _ in range(7)]
    grown, whole, rows = cd.BandTable(), cd.BandTable(), 0
    for keys in blocks:
        grown.add(keys, np.arange(rows, rows + len(keys)))
        rows += len(keys)
        grown.query(keys[:1], cap=3)
    whole.add(np.concatenate(blocks), np.arange(rows))
    queries = rng.integers(0, min(heavy, 80), (25, 4), dtype=np.uint64).astype(np.uint32)
    for cap, min_bands in ((3, 1), (16, 2), (1, 1)):
        got, want = grown.query(queries, cap, min_bands), whole.query(queries, cap, min_bands)
        assert got[0].tolist() == want[0].tolist() and got[1].tolist() == want[1].tolist()


def test_band_table_gives_the_newest_rows_of_a_crowded_key():
    table = cd.BandTable()
    table.add(np.array([[7, 100 + r] for r in range(10)], dtype=np.uint32), np.arange(10))
    table.add(np.array([[7, 1]], dtype=np.uint32), np.array([10]))
    q, r = table.query(np.array([[7, 3], [2, 1]], dtype=np.uint32), cap=4)
    assert list(zip(q.tolist(), r.tolist())) == [(0, 7), (0, 8), (0, 9), (0, 10), (1, 10)]
    q, r = table.query(np.array([[7, 1]], dtype=np.uint32), cap=4, min_bands=2)
    assert list(zip(q.tolist(), r.tolist())) == [(0, 10)]


def test_colliding_pairs_respects_the_cap_and_the_band_count():
    keys = np.array([[1, 2], [1, 2], [1, 3], [4, 3], [1, 5]], dtype=np.uint32)
    left, right = cd.colliding_pairs(keys, cap=2)
    assert list(zip(left.tolist(), right.tolist())) == [(0, 1), (0, 2), (1, 2), (1, 4), (2, 3), (2, 4)]
    left, right = cd.colliding_pairs(keys, cap=4, min_bands=2)
    assert list(zip(left.tolist(), right.tolist())) == [(0, 1)]


def test_merged_band_runs_keep_the_directory_of_a_fresh_run():
    rng = np.random.default_rng(11)
    table, rows = cd.BandTable(), 0
    for size in (300, 150, 100, 40, 500, 20):
        keys = (rng.integers(0, 900, (size, 8), dtype=np.uint64) * 2654435761 % 2**32).astype(np.uint32)
        table.add(keys, np.arange(rows, rows + size))
        rows += size
        table.query(keys[:1])
        for run in table.runs:
            fresh = cd._Run(run.keys, run.first, run.rows, run.low, run.high)
            assert run.start.dtype == fresh.start.dtype and run.start.tolist() == fresh.start.tolist()


def test_repeated_keeps_values_seen_often_enough_once():
    codes = np.array([5, 1, 5, 3, 5, 1, 9, 3, 3, 3], dtype=np.int64)
    assert cd.repeated(codes, 2).tolist() == [1, 3, 5]
    assert cd.repeated(codes, 3).tolist() == [3, 5]
    assert cd.repeated(codes, 1).tolist() == [1, 3, 5, 9]


@pytest.mark.parametrize("rows", [[0, 2, 3], [3, 0, 2], []])
def test_ragged_rows_are_appended_in_the_order_given(rows):
    values = np.arange(10, dtype=np.uint32)
    offsets = np.array([0, 2, 2, 5, 10])
    ragged = cd.Ragged()
    ragged.extend(values, offsets, np.array(rows, dtype=np.int64))
    got_values, got_offsets = ragged.trimmed()
    want = [values[offsets[r] : offsets[r + 1]].tolist() for r in rows]
    assert got_values.tolist() == [v for row in want for v in row]
    assert np.diff(got_offsets).tolist() == [len(row) for row in want]

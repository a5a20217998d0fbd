import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from presswatch.dedup_blocks import BlockHashing, Claimable, prepare
from presswatch.dedup_rules import CHUNK, Params

TEXT = ("Le déploiement de l'identifiant national de santé progresse dans les établissements de la région, "
        "où {n} services sur dix l'utilisent désormais pour chaque admission.")


def _texts(n):
    return [TEXT.format(n=k % 7) + f" Mention {k}." * (k % 3) for k in range(n)]


def _same(a, b):
    assert np.array_equal(a.shingled.shingles, b.shingled.shingles)
    assert np.array_equal(a.shingled.offsets, b.shingled.offsets)
    assert np.array_equal(a.keys, b.keys) and np.array_equal(a.sketches, b.sketches)
    assert np.array_equal(a.alias, b.alias) and np.array_equal(a.active, b.active)
    assert all(np.array_equal(x, y) for x, y in zip(a.inner, b.inner))
    assert all(np.array_equal(x, y) for x, y in zip(a.needles, b.needles))


def test_a_block_hashed_by_several_threads_equals_one_thread():
    texts = _texts(3 * CHUNK + 17)
    alone = prepare(texts, Params())
    job = BlockHashing(texts, Params())
    with ThreadPoolExecutor(3) as pool:
        for _ in range(3):
            pool.submit(job.work)
        shared = job.result()  # this thread helps too
    _same(shared, alone)
    assert (alone.alias >= 0).sum() > 0  # the block has exact copies to find


def test_the_caller_alone_can_finish_a_block_nobody_else_works_on():
    texts = _texts(CHUNK + 5)
    _same(BlockHashing(texts, Params()).result(), prepare(texts, Params()))
    assert len(BlockHashing([], Params()).result()) == 0


def test_an_error_in_one_chunk_reaches_whoever_waits_for_the_block():
    texts = _texts(2 * CHUNK)
    texts[CHUNK + 3] = None  # not a string: hashing that chunk fails
    job = BlockHashing(texts, Params())
    with ThreadPoolExecutor(1) as pool:
        pool.submit(job.work)
        with pytest.raises(TypeError):
            job.result()


def test_claimable_work_runs_once_whoever_asks():
    calls = []
    gate = threading.Event()

    def work():
        gate.wait(5)
        calls.append(threading.current_thread().name)

    job = Claimable(work)
    with ThreadPoolExecutor(4) as pool:
        for _ in range(4):
            pool.submit(job.try_run)
        gate.set()
        job.result()
    job.result()
    assert len(calls) == 1

    def broken():
        raise ValueError("no room")

    failing = Claimable(broken)
    failing.try_run()
    with pytest.raises(ValueError, match="no room"):
        failing.result()

import multiprocessing
from pathlib import Path

import numpy as np
import pytest

from ivr.core.audio import Pcm
from ivr.tts.cache import PromptCache, cache_key

ENGINE = "pyttsx3-2.99/espeak-ng"


def _pcm(seed: int, n: int = 8000) -> Pcm:
    rng = np.random.default_rng(seed)
    return Pcm(rng.integers(-20000, 20000, n, dtype=np.int16).tobytes(), 8000)


def test_keys_differ_by_every_input() -> None:
    base = cache_key(ENGINE, "sit/cmn", 170, 1.0, "您好")
    variants = {
        cache_key("other-engine", "sit/cmn", 170, 1.0, "您好"),
        cache_key(ENGINE, "gmw/en-us", 170, 1.0, "您好"),
        cache_key(ENGINE, "sit/cmn", 171, 1.0, "您好"),
        cache_key(ENGINE, "sit/cmn", 170, 0.5, "您好"),
        cache_key(ENGINE, "sit/cmn", 170, 1.0, "您好。"),
    }
    assert base not in variants and len(variants) == 5
    assert base == cache_key(ENGINE, "sit/cmn", 170, 1.0, "您好")
    assert len(base) == 64


def test_fields_cannot_run_together() -> None:
    assert cache_key(ENGINE, "a", 170, 1.0, "b c") != cache_key(ENGINE, "a b", 170, 1.0, "c")


def test_miss_then_put_then_hit(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path)
    key = cache_key(ENGINE, "sit/cmn", 170, 1.0, "您好")
    assert cache.get(key) is None
    pcm = _pcm(1)
    cache.put(key, pcm)
    assert cache.get(key) == pcm
    stats = cache.stats
    assert (stats.hits, stats.misses, stats.writes) == (1, 1, 1)
    assert not list(tmp_path.rglob(".tmp-*")), "temporary files must be renamed away"


def test_corrupt_entry_is_a_miss(tmp_path: Path) -> None:
    cache = PromptCache(tmp_path)
    key = cache_key(ENGINE, "v", 170, 1.0, "x")
    cache.put(key, _pcm(2))
    path = next(tmp_path.rglob("*.wav"))
    path.write_bytes(b"RIFF\x00garbage")
    assert cache.get(key) is None


def test_rejects_non_keys(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        PromptCache(tmp_path).get("../../etc/passwd")


def _writer(root: str, key: str, seed: int, rounds: int) -> None:
    cache = PromptCache(root)
    for _ in range(rounds):
        cache.put(key, _pcm(seed, 16000))
        got = cache.get(key)
        assert got is not None and len(got.data) == 32000


def test_concurrent_processes_see_only_whole_entries(tmp_path: Path) -> None:
    key = cache_key(ENGINE, "v", 170, 1.0, "shared")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), key, 7, 50)) for _ in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    assert PromptCache(tmp_path).get(key) == _pcm(7, 16000)
    assert not list(tmp_path.rglob(".tmp-*"))

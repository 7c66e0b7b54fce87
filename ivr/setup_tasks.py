"""``ivr setup``: speech models, Rasa training and prompt rendering, each skipped when its
inputs have not changed (content hashes kept under ``<data_dir>/state``). Every step says what
it did or skipped; long steps show progress; failures are one message naming the setting."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from ivr import rasa_train
from ivr.asr.model_files import unpack_packed_files, validate_model_dir
from ivr.asr.models import ModelSpec, ensure_model
from ivr.call.prompts import MANIFEST, load_prompts
from ivr.config import Config
from ivr.core.errors import ModelError, SetupError
from ivr.core.types import Language
from ivr.dialogue.domain_texts import fixed_responses
from ivr.tts.factory import build_tts
from ivr.tts.service import PrerenderReport

PROMPT_BATCH = 24
TINY_MODELS_CONFIG = "config/tiny-models.toml"


def _say(msg: str) -> None:
    print(f"[ivr setup] {msg}", flush=True)


def tree_digest(paths: Iterable[Path], extra: str = "", *, root: Path | None = None) -> str:
    """Content hash of files, named relative to ``root`` so a clone elsewhere hashes the same."""
    h = hashlib.sha256(extra.encode())
    for path in sorted(paths):
        if path.is_file():
            # relative even outside root (ivr/text beside rasa_project: "../ivr/text/...")
            name = Path(os.path.relpath(path, root)) if root is not None else path
            h.update(str(name).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


class Stamp:
    def __init__(self, config: Config, name: str) -> None:
        self.path = config.server.data_dir / "state" / f"{name}.sha256"

    def fresh(self, digest: str) -> bool:
        return self.path.exists() and self.path.read_text().strip() == digest

    def save(self, digest: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(digest + "\n")


class DownloadMeter:
    """Prints a download's bytes and rate about once a second (and at the end)."""

    def __init__(self, label: str, clock: Callable[[], float] = time.monotonic,
                 say: Callable[[str], None] = _say) -> None:
        self.label, self.clock, self.say = label, clock, say
        self.started = self.last = clock()

    def __call__(self, done: int, total: int | None) -> None:
        now = self.clock()
        if now - self.last < 1.0 and done != total:
            return
        self.last = now
        rate = done / max(now - self.started, 1e-3) / 1e6
        size = f"{done / 1e6:.1f} of {total / 1e6:.1f} MB" if total else f"{done / 1e6:.1f} MB"
        self.say(f"{self.label}: {size} ({rate:.1f} MB/s)")


def _model_setting(lang: Language) -> str:
    return f"asr.{lang.value}_model"


def offline_hint(lang: Language) -> str:
    setting = _model_setting(lang)
    return (f"Without internet access use the tiny test models: `make run CONFIG="
            f"{TINY_MODELS_CONFIG}`; or point {setting} (IVR_{setting.replace('.', '_').upper()})"
            f" at a Vosk model directory you have, or {setting}_url at a reachable copy")


def ensure_models(config: Config) -> list[str]:
    done = []
    for lang in Language:
        target = config.model_dir(lang)
        if target.exists():
            for unpacked in unpack_packed_files(target):
                _say(f"{lang.value} speech model: unpacked {unpacked}")
            try:
                validate_model_dir(target)
            except ModelError as exc:
                raise ModelError(f"setting {_model_setting(lang)}: {exc.args[0]}. Fix: point "
                                 "it at an unpacked Vosk model (the folder holding am/, conf/, "
                                 f"graph/), or delete {target} to download the model again",
                                 code=exc.code) from exc
            _say(f"{lang.value} speech model: present at {target} (skipped)")
            continue
        url = config.asr.zh_model_url if lang is Language.ZH else config.asr.en_model_url
        sha = config.asr.zh_model_sha256 if lang is Language.ZH else config.asr.en_model_sha256
        _say(f"{lang.value} speech model: not at {target}; downloading {url}")
        spec = ModelSpec(name=target.name, url=url, sha256=sha or None)
        try:
            path = ensure_model(spec, target.parent,
                                progress=DownloadMeter(f"{lang.value} model download"))
        except ModelError as exc:
            raise ModelError(f"setting {_model_setting(lang)}: {exc.args[0]}. "
                             f"{offline_hint(lang)}", code=exc.code) from exc
        if path.resolve() != target.resolve():
            raise ModelError(f"model for {lang} ended up at {path}, expected {target}")
        done.append(f"{lang.value} model")
    return done


def train_rasa(config: Config, *, force: bool) -> bool:
    """True if a model was trained or restored, False if it was up to date."""
    digest = tree_digest(rasa_train.model_inputs(config), root=config.rasa.project_dir)
    stamp = Stamp(config, "rasa-train")
    if not force and stamp.fresh(digest) and config.rasa.model.exists():
        _say(f"Rasa model: up to date ({config.rasa.model.name}, inputs unchanged; skipped)")
        return False
    if not force and rasa_train.restore_cached(config, digest):
        _say(f"Rasa model: reused a model trained from the same inputs "
             f"({rasa_train.cached_model(config.server.cache_dir, digest)})")
        stamp.save(digest)
        return True
    _say("Rasa model: training (about a minute on 2 cores; output in "
         f"{config.server.data_dir / 'logs' / 'rasa-train.log'})")
    started = time.monotonic()
    rasa_train.train(config, _say)
    rasa_train.save_to_cache(config, digest)
    stamp.save(digest)
    _say(f"Rasa model: trained in {time.monotonic() - started:.0f} s")
    return True


def render_prompts(config: Config, *, force: bool) -> bool:
    domain = config.rasa.project_dir / "domain.yml"
    texts = list(dict.fromkeys([*fixed_responses(domain), *load_prompts().all()]))
    voice = f"{config.tts.zh_voice}|{config.tts.en_voice}|{config.tts.zh_rate}|" \
            f"{config.tts.en_rate}|{config.tts.volume}|{config.tts.cache_dir}"
    digest = tree_digest([domain, MANIFEST], voice)
    stamp = Stamp(config, "prompts")
    if not force and stamp.fresh(digest):
        _say(f"prompts: {len(texts)} up to date in {config.tts.cache_dir} (skipped)")
        return False

    async def render() -> PrerenderReport:
        tts = build_tts(config)
        await tts.start()
        total = PrerenderReport()
        try:
            for start in range(0, len(texts), PROMPT_BATCH):
                part = await tts.prerender(texts[start:start + PROMPT_BATCH])
                total = PrerenderReport(total.rendered + part.rendered,
                                        total.cached + part.cached,
                                        total.failed + part.failed, total.errors + part.errors)
                _say(f"prompts: {min(start + PROMPT_BATCH, len(texts))}/{len(texts)} "
                     f"({total.rendered} rendered, {total.cached} cached)")
        finally:
            await tts.close()
        return total

    started = time.monotonic()
    report = asyncio.run(render())
    if report.failed:
        raise SetupError(f"{report.failed} prompts failed to render with pyttsx3/espeak-ng "
                         f"(settings tts.zh_voice / tts.en_voice): {report.errors[0]}")
    stamp.save(digest)
    _say(f"prompts: {report.rendered} rendered, {report.cached} already cached in "
         f"{time.monotonic() - started:.1f} s")
    return True


def run_setup(config: Config, *, models: bool, train: bool, prompts: bool, force: bool) -> int:
    started = time.monotonic()
    did: list[str] = []
    if models:
        did += ensure_models(config)
    if train and train_rasa(config, force=force):
        did.append("Rasa model")
    if prompts and render_prompts(config, force=force):
        did.append("prompts")
    summary = ", ".join(did) if did else "nothing to do, every step was up to date"
    _say(f"done in {time.monotonic() - started:.1f} s ({summary})")
    return 0


"""``ivr setup``: speech models, Rasa training and prompt rendering, each skipped when its
inputs have not changed (content hashes kept under ``<data_dir>/state``)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

from ivr.asr.model_files import validate_model_dir
from ivr.asr.models import ModelSpec, ensure_model
from ivr.call.prompts import MANIFEST, load_prompts
from ivr.config import Config
from ivr.core.errors import ConfigError, ModelError
from ivr.core.types import Language
from ivr.dialogue.domain_texts import fixed_responses
from ivr.rasa_children import ivr_import_root, rasa_env
from ivr.tts.factory import build_tts

log = logging.getLogger(__name__)


def _say(msg: str) -> None:
    print(f"[ivr setup] {msg}", flush=True)


def tree_digest(paths: Iterable[Path], extra: str = "", *, root: Path | None = None) -> str:
    """Content hash of files, named relative to ``root`` so a clone elsewhere hashes the same."""
    h = hashlib.sha256(extra.encode())
    for path in sorted(paths):
        if path.is_file():
            name = path.relative_to(root) if root is not None else path
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


def ensure_models(config: Config) -> None:
    for lang in Language:
        target = config.model_dir(lang)
        try:
            validate_model_dir(target)
            continue
        except ModelError:
            pass
        url = config.asr.zh_model_url if lang is Language.ZH else config.asr.en_model_url
        sha = config.asr.zh_model_sha256 if lang is Language.ZH else config.asr.en_model_sha256
        name = target.name
        _say(f"{lang} model missing at {target}; downloading {url}")
        path = ensure_model(ModelSpec(name=name, url=url, sha256=sha or None), target.parent)
        if path.resolve() != target.resolve():
            raise ModelError(f"model for {lang} ended up at {path}, expected {target}")


def train_rasa(config: Config, *, force: bool) -> None:
    project = config.rasa.project_dir
    inputs = [project / "config.yml", project / "domain.yml", *(project / "data").rglob("*.yml"),
              *(project / "components").rglob("*.py")]
    # the in-pipeline normaliser runs this package's code at training time
    text_pkg = ivr_import_root() / "ivr" / "text"
    text_digest = tree_digest(text_pkg.rglob("*.py"), root=text_pkg)
    digest = tree_digest(inputs, text_digest, root=project)
    stamp = Stamp(config, "rasa-train")
    if not force and stamp.fresh(digest) and config.rasa.model.exists():
        return
    rasa = config.rasa.venv / "bin" / "rasa"
    if not rasa.exists():
        raise ConfigError(f"setting rasa.venv: {rasa} not found (run scripts/setup.py)")
    _say("training the Rasa model (a few minutes)")
    started = time.monotonic()
    out = config.rasa.model.parent
    out.mkdir(parents=True, exist_ok=True)
    name = config.rasa.model.name.removesuffix(".tar.gz")
    env = dict(os.environ, **rasa_env())
    subprocess.run(
        [str(rasa), "train", "--fixed-model-name", name, "--out", str(out)],
        cwd=project, env=env, check=True,
    )
    if not config.rasa.model.exists():
        raise ConfigError(f"rasa train finished but {config.rasa.model} is missing")
    stamp.save(digest)
    _say(f"Rasa model trained in {time.monotonic() - started:.0f} s")


def render_prompts(config: Config, *, force: bool) -> None:
    domain = config.rasa.project_dir / "domain.yml"
    texts = [*fixed_responses(domain), *load_prompts().all()]
    voice = f"{config.tts.zh_voice}|{config.tts.en_voice}|{config.tts.zh_rate}|" \
            f"{config.tts.en_rate}|{config.tts.volume}|{config.tts.cache_dir}"
    digest = tree_digest([domain, MANIFEST], voice)
    stamp = Stamp(config, "prompts")
    if not force and stamp.fresh(digest):
        return

    async def render() -> None:
        tts = build_tts(config)
        await tts.start()
        try:
            report = await tts.prerender(texts)
        finally:
            await tts.close()
        _say(f"prompts: {report}")
        if report.failed:
            raise ConfigError(f"{report.failed} prompts failed to render")

    asyncio.run(render())
    stamp.save(digest)


def run_setup(config: Config, *, models: bool, train: bool, prompts: bool, force: bool) -> int:
    started = time.monotonic()
    if models:
        ensure_models(config)
    if train:
        train_rasa(config, force=force)
    if prompts:
        render_prompts(config, force=force)
    _say(f"up to date ({time.monotonic() - started:.1f} s)")
    return 0

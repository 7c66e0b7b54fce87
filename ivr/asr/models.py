"""Model acquisition for set-up (never at test or call time): local path, cache or download."""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ivr.asr.model_files import validate_model_dir
from ivr.core.errors import ErrorCode, ModelError
from ivr.core.types import Language

log = logging.getLogger(__name__)

_CHUNK = 1 << 20
_READ = 64 << 10

# Called as bytes arrive: (bytes so far, total from Content-Length or None).
Progress = Callable[[int, int | None], None]


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """Where a model comes from. ``sha256`` pins the zip; ``local_path`` skips downloading."""

    name: str
    url: str
    sha256: str | None = None
    local_path: Path | None = None


# Official small models (https://alphacephei.com/vosk/models). Hashes never computed here: None.
DEFAULT_MODELS: dict[Language, ModelSpec] = {
    Language.ZH: ModelSpec(
        name="vosk-model-small-cn-0.22",
        url="https://alphacephei.com/vosk/models/vosk-model-small-cn-0.22.zip",
    ),
    Language.EN: ModelSpec(
        name="vosk-model-small-en-us-0.15",
        url="https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip",
    ),
}


def ensure_model(spec: ModelSpec, cache_dir: Path, *, timeout_s: float = 60.0,
                 progress: Progress | None = None) -> Path:
    """Return a validated model directory, downloading and extracting it if needed.
    ``cache_dir`` belongs to the downloader: an incomplete model there is replaced."""
    if spec.local_path is not None:
        return validate_model_dir(spec.local_path).path
    target = cache_dir / spec.name
    if target.is_dir():
        try:
            return validate_model_dir(target).path
        except ModelError:
            log.warning("cached model %s is incomplete; downloading again", target)
            shutil.rmtree(target)
    cache_dir.mkdir(parents=True, exist_ok=True)
    archive = _download(spec, cache_dir, timeout_s, progress)
    try:
        _verify_archive(spec, archive)
        _extract(archive, target)
    finally:
        archive.unlink(missing_ok=True)
    return validate_model_dir(target).path


def _download(spec: ModelSpec, cache_dir: Path, timeout_s: float,
              progress: Progress | None) -> Path:
    final = cache_dir / f"{spec.name}.zip"
    fd, tmp_name = tempfile.mkstemp(prefix=f".{spec.name}.", suffix=".part", dir=cache_dir)
    tmp = Path(tmp_name)
    log.info("downloading %s from %s", spec.name, spec.url)
    try:
        with open(fd, "wb") as out, urllib.request.urlopen(spec.url, timeout=timeout_s) as resp:
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            done = 0
            while block := resp.read(_READ):
                out.write(block)
                done += len(block)
                if progress is not None:
                    progress(done, total)
            if total is not None and done != total:
                raise OSError(f"connection closed after {done} of {total} bytes")
        tmp.replace(final)
    except (OSError, ValueError) as exc:
        tmp.unlink(missing_ok=True)
        raise ModelError(
            f"could not download model {spec.name} from {spec.url}: {exc}",
            code=ErrorCode.MODEL_MISSING,
        ) from exc
    return final


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify_archive(spec: ModelSpec, archive: Path) -> None:
    if spec.sha256 is not None:
        actual = _sha256(archive)
        if actual.lower() != spec.sha256.lower():
            raise ModelError(
                f"checksum mismatch for {spec.name} from {spec.url}: "
                f"expected sha256 {spec.sha256}, got {actual}; download removed",
                code=ErrorCode.MODEL_INVALID,
            )
    try:
        with zipfile.ZipFile(archive) as zf:
            bad = zf.testzip()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelError(
            f"downloaded model {spec.name} is not a valid zip: {exc}", code=ErrorCode.MODEL_INVALID
        ) from exc
    if bad is not None:
        raise ModelError(
            f"downloaded model {spec.name} is corrupt (bad member {bad})",
            code=ErrorCode.MODEL_INVALID,
        )


def _model_root(extracted: Path) -> Path:
    """The directory holding ``am/``: the zip's single top folder or the extraction root."""
    if (extracted / "am").is_dir():
        return extracted
    children = [p for p in extracted.iterdir() if p.is_dir()]
    if len(children) == 1:
        return children[0]
    return extracted


def _extract(archive: Path, target: Path) -> None:
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        with zipfile.ZipFile(archive) as zf:
            for name in zf.namelist():
                member = PurePosixPath(name)
                if member.is_absolute() or ".." in member.parts:
                    raise ModelError(
                        f"model archive {archive.name} has an unsafe path: {name}",
                        code=ErrorCode.MODEL_INVALID,
                    )
            zf.extractall(staging)
        root = _model_root(staging)
        try:
            validate_model_dir(root)
        except ModelError as exc:
            raise ModelError(
                f"model archive {archive.name} does not hold a usable model: {exc}",
                code=ErrorCode.MODEL_INVALID,
            ) from exc
        root.replace(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)

"""Model acquisition against a loopback HTTP server serving a zip of the tiny test model."""

from __future__ import annotations

import hashlib
import io
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ivr.asr.model_files import validate_model_dir
from ivr.asr.models import DEFAULT_MODELS, ModelSpec, ensure_model
from ivr.core.errors import ErrorCode, ModelError
from ivr.core.types import Language

TINY_EN = Path(__file__).resolve().parents[2].parent / "shared" / "models" / "tiny-en"
NAME = "vosk-model-tiny-en-test"


def zip_model(src: Path, top: str, skip: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(src.rglob("*")):
            rel = path.relative_to(src).as_posix()
            if path.is_file() and rel != skip:
                zf.write(path, f"{top}/{rel}")
    return buf.getvalue()


@dataclass
class FileServer:
    files: dict[str, bytes] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    base_url: str = ""


@pytest.fixture
def server() -> Iterator[FileServer]:
    state = FileServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(self.path)
            body = state.files.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def model_zip() -> bytes:
    if not TINY_EN.is_dir():
        pytest.skip(f"tiny test model not found at {TINY_EN}")
    return zip_model(TINY_EN, NAME)


def spec_for(server: FileServer, body: bytes, sha256: str | None = None) -> ModelSpec:
    server.files["/models/m.zip"] = body
    return ModelSpec(name=NAME, url=server.base_url + "/models/m.zip", sha256=sha256)


def leftovers(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


def test_download_extract_and_cache_hit(
    server: FileServer, model_zip: bytes, tmp_path: Path
) -> None:
    digest = hashlib.sha256(model_zip).hexdigest()
    spec = spec_for(server, model_zip, sha256=digest)
    path = ensure_model(spec, tmp_path / "cache")
    assert path == tmp_path / "cache" / NAME
    assert validate_model_dir(path).lookahead
    assert (path / "graph" / "Gr.fst").read_bytes() == (TINY_EN / "graph" / "Gr.fst").read_bytes()
    assert server.requests == ["/models/m.zip"]
    assert leftovers(tmp_path / "cache") == [NAME]  # no zip or temp files left
    assert ensure_model(spec, tmp_path / "cache") == path
    assert server.requests == ["/models/m.zip"]  # cache hit: no second request


def test_checksum_mismatch_is_clear_and_removes_download(
    server: FileServer, model_zip: bytes, tmp_path: Path
) -> None:
    spec = spec_for(server, model_zip, sha256="0" * 64)
    with pytest.raises(ModelError, match="checksum mismatch") as info:
        ensure_model(spec, tmp_path)
    assert info.value.code is ErrorCode.MODEL_INVALID
    assert leftovers(tmp_path) == []


def test_not_a_zip(server: FileServer, tmp_path: Path) -> None:
    spec = spec_for(server, b"<html>not found page</html>")
    with pytest.raises(ModelError, match="not a valid zip"):
        ensure_model(spec, tmp_path)
    assert leftovers(tmp_path) == []


def test_corrupt_member(server: FileServer, tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(f"{NAME}/am/final.mdl", b"A" * 4096)
    data = bytearray(buf.getvalue())
    data[data.index(b"AAAA") + 100] ^= 0xFF  # payload byte flipped: CRC no longer matches
    spec = spec_for(server, bytes(data))
    with pytest.raises(ModelError, match="corrupt"):
        ensure_model(spec, tmp_path)
    assert leftovers(tmp_path) == []


def test_archive_missing_model_file(server: FileServer, tmp_path: Path) -> None:
    if not TINY_EN.is_dir():
        pytest.skip("tiny test model not found")
    spec = spec_for(server, zip_model(TINY_EN, NAME, skip="am/final.mdl"))
    with pytest.raises(ModelError, match=r"am/final\.mdl") as info:
        ensure_model(spec, tmp_path)
    assert info.value.code is ErrorCode.MODEL_INVALID
    assert leftovers(tmp_path) == []


def test_http_error_and_unreachable(server: FileServer, tmp_path: Path) -> None:
    missing = ModelSpec(name=NAME, url=server.base_url + "/nope.zip")
    with pytest.raises(ModelError, match="could not download") as info:
        ensure_model(missing, tmp_path, timeout_s=5)
    assert info.value.code is ErrorCode.MODEL_MISSING
    assert leftovers(tmp_path) == []


def test_local_path_is_validated_and_never_downloaded(
    server: FileServer, tmp_path: Path
) -> None:
    if not TINY_EN.is_dir():
        pytest.skip("tiny test model not found")
    spec = ModelSpec(name=NAME, url=server.base_url + "/m.zip", local_path=TINY_EN)
    assert ensure_model(spec, tmp_path) == TINY_EN
    bad = ModelSpec(name=NAME, url=server.base_url + "/m.zip", local_path=tmp_path / "none")
    with pytest.raises(ModelError, match="not found"):
        ensure_model(bad, tmp_path)
    assert server.requests == []


def test_incomplete_cache_is_replaced(
    server: FileServer, model_zip: bytes, tmp_path: Path
) -> None:
    (tmp_path / NAME / "am").mkdir(parents=True)
    spec = spec_for(server, model_zip)
    path = ensure_model(spec, tmp_path)
    assert validate_model_dir(path)
    assert len(server.requests) == 1


def test_defaults_name_official_small_models_without_invented_hashes() -> None:
    assert DEFAULT_MODELS[Language.ZH].name == "vosk-model-small-cn-0.22"
    assert DEFAULT_MODELS[Language.EN].name == "vosk-model-small-en-us-0.15"
    for spec in DEFAULT_MODELS.values():
        assert spec.url.startswith("https://alphacephei.com/vosk/models/")
        assert spec.url.endswith(f"{spec.name}.zip")
        assert spec.sha256 is None

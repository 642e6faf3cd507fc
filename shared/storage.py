"""The object store for attachments: an interface with a local implementation under the data
dir (the embedded run) — production plugs in an S3-compatible store behind the same methods.
Objects are addressed by their sha256, so the same file stored twice is one object."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any, Protocol


class ObjectStore(Protocol):
    async def put(self, data: bytes) -> tuple[str, str]:
        """Store ``data``; returns (storage key, sha256 hex)."""
        ...

    async def get(self, key: str) -> bytes: ...


class LocalObjectStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            raise KeyError(key)
        return self.root / key[:2] / key

    async def put(self, data: bytes) -> tuple[str, str]:
        digest = hashlib.sha256(data).hexdigest()
        path = self._path(digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # write then rename: a crash never leaves a half-written object under its name
            fd, tmp = tempfile.mkstemp(dir=path.parent)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        return digest, digest

    async def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()


def object_store(settings: Any) -> LocalObjectStore:
    """The object store of this deployment (the embedded run: under the data dir)."""
    return LocalObjectStore(settings.data_dir.resolve() / "objects")

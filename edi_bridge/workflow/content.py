"""Where a send's content comes from: the caller's bytes or file, or the store."""

from __future__ import annotations

import io
from pathlib import Path
from typing import IO

from ..errors import ConfigurationError
from ..models import Document
from ..provider import ContentSource
from ..store import Store


class StoredContent(ContentSource):
    """Content read back from the store in chunks, for large documents."""

    def __init__(self, store: Store, sha256: str, size: int) -> None:
        self._store = store
        self._sha = sha256
        self.size = size

    def open(self) -> IO[bytes]:
        return self._store.open_blob(self._sha)


class MemoryContent(ContentSource):
    """Content held in memory: the caller's bytes, or a small stored content read once."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self.size = len(data)

    def open(self) -> IO[bytes]:
        return io.BytesIO(self._data)

    def read_all(self) -> bytes:
        return self._data


def document_source(document: Document) -> Path | bytes:
    source = document.source
    if source is None:
        raise ConfigurationError("document has no content")
    return source


__all__ = ["MemoryContent", "StoredContent", "document_source"]

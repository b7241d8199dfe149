"""Content: documents and signatures by SHA-256, in 1 MiB chunks."""

from __future__ import annotations

import hashlib
import io
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ..errors import NotFound, ValidationError
from . import schema
from .bulk import execute_many, insert_ignoring
from .clock import utcnow
from .engine import StoreBase, read_connection

CHUNK = 1 << 20

_blob_exists = sa.select(schema.blobs.c.sha256).where(schema.blobs.c.sha256 == sa.bindparam("sha"))
_insert_blob = schema.blobs.insert()
_insert_chunk = schema.blob_chunks.insert()
_chunks = (
    sa.select(schema.blob_chunks.c.data)
    .where(schema.blob_chunks.c.sha256 == sa.bindparam("sha"))
    .order_by(schema.blob_chunks.c.seq)
)


_chunks_of = (
    sa.select(schema.blob_chunks.c.sha256, schema.blob_chunks.c.data)
    .where(schema.blob_chunks.c.sha256.in_(sa.bindparam("shas", expanding=True)))
    .order_by(schema.blob_chunks.c.sha256, schema.blob_chunks.c.seq)
)


# An IN list as one expanding parameter: built and compiled once, not per call.
_blobs_stored = sa.select(schema.blobs.c.sha256).where(
    schema.blobs.c.sha256.in_(sa.bindparam("shas", expanding=True))
)


class ContentReader(io.RawIOBase):
    """Reads a blob chunk by chunk, one query per chunk; seekable (chunks are CHUNK long)."""

    def __init__(self, engine: Engine, sha256: str) -> None:
        self._engine = engine
        self._sha = sha256
        self._seq = 0
        self._buf = b""
        self._eof = False
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        # Adapters re-read parts of large content (shelf uploads resend missing parts).
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._pos
        elif whence != io.SEEK_SET:
            raise io.UnsupportedOperation("stored content seeks from the start or current position")
        if offset < 0:
            raise ValueError("negative seek position")
        self._seq, skip = divmod(offset, CHUNK)
        self._buf, self._eof = b"", False
        self._pos = offset
        if skip:
            self._fill()
            self._buf = self._buf[skip:]
        return offset

    def _fill(self) -> None:
        with read_connection(self._engine) as conn:
            data = conn.execute(
                sa.select(schema.blob_chunks.c.data).where(
                    schema.blob_chunks.c.sha256 == self._sha,
                    schema.blob_chunks.c.seq == self._seq,
                )
            ).scalar_one_or_none()
        if data is None:
            self._eof = True
        else:
            self._buf = bytes(data)
            self._seq += 1

    def readinto(self, b: Any) -> int:
        while not self._buf and not self._eof:
            self._fill()
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        self._pos += n
        return n


class BlobStore(StoreBase):
    """The content table family (``edi_blobs``, ``edi_blob_chunks``)."""

    def put_blob(
        self,
        conn: Connection,
        source: Path | bytes | Iterable[bytes],
        *,
        expect_sha256: str | None = None,
    ) -> str:
        """Store content (streamed from a path or chunks); returns its SHA-256.

        Content already stored (same hash) is not written again. A file is
        copied once while it is hashed, so the bytes stored are the bytes
        hashed even if the file changes meanwhile; with ``expect_sha256`` (the
        hash recorded when the document was described) a file that changed
        since is refused, naming ``document``.
        """
        if isinstance(source, bytes) and len(source) <= CHUNK:
            # Small content in hand (the usual document): hashed and stored by
            # put_blobs, which lets the database skip a content already stored.
            sha = hashlib.sha256(source).hexdigest()
            if expect_sha256 is not None and sha != expect_sha256:
                raise ValidationError(
                    "document", "the file changed since it was described (its SHA-256 differs)"
                )
            self.put_blobs(conn, [source])
        elif isinstance(source, bytes):
            sha = self._put_file(conn, io.BytesIO(source), expect_sha256)
        else:
            with tempfile.TemporaryFile() as spool:
                if isinstance(source, Path):
                    with source.open("rb") as fh:
                        for chunk in iter(lambda: fh.read(CHUNK), b""):
                            spool.write(chunk)
                else:
                    for piece in source:
                        spool.write(piece)
                spool.seek(0)
                sha = self._put_file(conn, spool, expect_sha256)
        return sha

    def _put_file(self, conn: Connection, fh: IO[bytes], expect: str | None = None) -> str:
        digest = hashlib.sha256()
        size = 0
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
        sha = digest.hexdigest()
        if expect is not None and sha != expect:
            raise ValidationError(
                "document", "the file changed since it was described (its SHA-256 differs)"
            )
        exists = conn.execute(_blob_exists, {"sha": sha}).first()
        if exists is None:
            conn.execute(_insert_blob, {"sha256": sha, "size": size, "created_at": utcnow()})
            fh.seek(0)
            for seq, chunk in enumerate(iter(lambda: fh.read(CHUNK), b"")):
                conn.execute(_insert_chunk, {"sha256": sha, "seq": seq, "data": chunk})
        return sha

    def put_blobs(self, conn: Connection, contents: Sequence[bytes]) -> list[str]:
        """Many small contents with a few statements; returns their SHA-256s."""
        shas = [hashlib.sha256(c).hexdigest() for c in contents]
        if not shas:
            return shas
        blob_stmt = insert_ignoring(conn, schema.blobs)
        chunk_stmt = insert_ignoring(conn, schema.blob_chunks)
        stored: set[str] = set()
        if blob_stmt is None or chunk_stmt is None:  # neither SQLite nor PostgreSQL: look first
            found = conn.execute(_blobs_stored, {"shas": list(set(shas))}).scalars()
            stored = {str(s) for s in found}
            blob_stmt, chunk_stmt = _insert_blob, _insert_chunk
        # Otherwise a content already stored (blob and chunks, which always commit
        # together) is skipped by the database, with no look-up first.
        now = utcnow()
        blobs: list[dict[str, Any]] = []
        chunks: list[dict[str, Any]] = []
        for content, sha in zip(contents, shas, strict=True):
            if sha in stored:
                continue
            stored.add(sha)
            blobs.append({"sha256": sha, "size": len(content), "created_at": now})
            for seq, start in enumerate(range(0, len(content), CHUNK)):
                chunks.append({"sha256": sha, "seq": seq, "data": content[start : start + CHUNK]})
        execute_many(conn, blob_stmt, blobs)
        execute_many(conn, chunk_stmt, chunks)
        return shas

    def open_blob(self, sha256: str) -> IO[bytes]:
        self.blob_size(sha256)  # raises NotFound for content never stored
        return io.BufferedReader(ContentReader(self.engine, sha256), CHUNK)

    def read_blob(self, conn: Connection, sha256: str) -> bytes:
        """A stored content whole, read over ``conn`` in one query (for small content)."""
        data = b"".join(bytes(chunk) for chunk in conn.execute(_chunks, {"sha": sha256}).scalars())
        if not data:
            # Empty content has no chunks; absent content has no blob row either.
            size = conn.execute(
                sa.select(schema.blobs.c.size).where(schema.blobs.c.sha256 == sha256)
            ).scalar_one_or_none()
            if size is None:
                raise NotFound(f"no content with SHA-256 {sha256}")
        return data

    def read_blobs(self, conn: Connection, shas: Sequence[str]) -> dict[str, bytes]:
        """Several small stored contents whole, in one query; empty or absent ones are
        left out (callers read those the usual way)."""
        parts: dict[str, list[bytes]] = {}
        if shas:
            for sha, data in conn.execute(_chunks_of, {"shas": list(set(shas))}):
                parts.setdefault(str(sha), []).append(bytes(data))
        return {sha: b"".join(chunks) for sha, chunks in parts.items()}

    def blob_size(self, sha256: str) -> int:
        with read_connection(self.engine) as conn:
            size = conn.execute(
                sa.select(schema.blobs.c.size).where(schema.blobs.c.sha256 == sha256)
            ).scalar_one_or_none()
        if size is None:
            raise NotFound(f"no content with SHA-256 {sha256}")
        return int(size)


__all__ = ["CHUNK", "BlobStore", "ContentReader"]

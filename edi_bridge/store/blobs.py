"""Content: documents and signatures by SHA-256, in the blob row or in 1 MiB chunks.

A content of at most :data:`CHUNK` bytes is kept in its ``edi_blobs`` row
(``data``); a larger one (and any stored before schema version 9) has ``data``
NULL and lives in ``edi_blob_chunks``. Readers take either.
"""

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

_b, _c = schema.blobs, schema.blob_chunks
_blob_exists = sa.select(_b.c.sha256).where(_b.c.sha256 == sa.bindparam("sha"))
_blob_row = sa.select(_b.c.size, _b.c.data).where(_b.c.sha256 == sa.bindparam("sha"))
_insert_blob = _b.insert()
_insert_chunk = _c.insert()
_chunks = sa.select(_c.c.data).where(_c.c.sha256 == sa.bindparam("sha")).order_by(_c.c.seq)
_chunk = sa.select(_c.c.data).where(
    _c.c.sha256 == sa.bindparam("sha"), _c.c.seq == sa.bindparam("seq")
)
# IN lists as one expanding parameter each: built and compiled once, not per call.
_chunks_of = (
    sa.select(_c.c.sha256, _c.c.data)
    .where(_c.c.sha256.in_(sa.bindparam("shas", expanding=True)))
    .order_by(_c.c.sha256, _c.c.seq)
)
_rows_of = sa.select(_b.c.sha256, _b.c.data).where(
    _b.c.sha256.in_(sa.bindparam("shas", expanding=True))
)
_blobs_stored = sa.select(_b.c.sha256).where(_b.c.sha256.in_(sa.bindparam("shas", expanding=True)))


class ContentReader(io.RawIOBase):
    """Reads a blob chunk by chunk, one query per chunk; seekable (chunks are CHUNK long).
    A content kept in its blob row (``inline``) is read from memory."""

    def __init__(self, engine: Engine, sha256: str, inline: bytes | None = None) -> None:
        self._engine = engine
        self._sha = sha256
        self._inline = inline
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
        if self._inline is not None:
            data: Any = self._inline[self._seq * CHUNK : (self._seq + 1) * CHUNK] or None
        else:
            with read_connection(self._engine) as conn:
                data = conn.execute(_chunk, {"sha": self._sha, "seq": self._seq}).scalar()
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
            fh.seek(0)
            inline = fh.read() if size <= CHUNK else None
            row = {"sha256": sha, "size": size, "created_at": utcnow(), "data": inline}
            conn.execute(_insert_blob, row)
            if inline is None:
                fh.seek(0)
                for seq, chunk in enumerate(iter(lambda: fh.read(CHUNK), b"")):
                    conn.execute(_insert_chunk, {"sha256": sha, "seq": seq, "data": chunk})
        return sha

    def put_blobs(
        self,
        conn: Connection,
        contents: Sequence[bytes],
        known: Sequence[str | None] | None = None,
    ) -> list[str]:
        """Many small contents with a few statements; returns their SHA-256s. ``known``:
        SHA-256s the caller computed already, by position (None: hashed here); a caller
        that passes one vouches that it is the content's."""
        given = known or [None] * len(contents)
        shas = [k or hashlib.sha256(c).hexdigest() for c, k in zip(contents, given, strict=True)]
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
            inline = content if len(content) <= CHUNK else None
            blobs.append({"sha256": sha, "size": len(content), "created_at": now, "data": inline})
            if inline is None:
                for seq, start in enumerate(range(0, len(content), CHUNK)):
                    chunk = content[start : start + CHUNK]
                    chunks.append({"sha256": sha, "seq": seq, "data": chunk})
        execute_many(conn, blob_stmt, blobs)
        execute_many(conn, chunk_stmt, chunks)
        return shas

    def open_blob(self, sha256: str) -> IO[bytes]:
        with read_connection(self.engine) as conn:
            row = conn.execute(_blob_row, {"sha": sha256}).first()
        if row is None:
            raise NotFound(f"no content with SHA-256 {sha256}")
        inline = None if row.data is None else bytes(row.data)
        return io.BufferedReader(ContentReader(self.engine, sha256, inline), CHUNK)

    def read_blob(self, conn: Connection, sha256: str) -> bytes:
        """A stored content whole, read over ``conn`` (for small content): one query when
        it is kept in its blob row, two when in chunks."""
        row = conn.execute(_blob_row, {"sha": sha256}).first()
        if row is None:
            raise NotFound(f"no content with SHA-256 {sha256}")
        if row.data is not None:
            return bytes(row.data)
        return b"".join(bytes(chunk) for chunk in conn.execute(_chunks, {"sha": sha256}).scalars())

    def read_blobs(self, conn: Connection, shas: Sequence[str]) -> dict[str, bytes]:
        """Several small stored contents whole, in one query (two when some are in
        chunks); empty or absent ones are left out (callers read those the usual way)."""
        found: dict[str, bytes] = {}
        chunked: list[str] = []
        if shas:
            for sha, data in conn.execute(_rows_of, {"shas": list(set(shas))}):
                if data is None:
                    chunked.append(str(sha))
                elif data:
                    found[str(sha)] = bytes(data)
        parts: dict[str, list[bytes]] = {}
        if chunked:
            for sha, data in conn.execute(_chunks_of, {"shas": chunked}):
                parts.setdefault(str(sha), []).append(bytes(data))
        found.update((sha, b"".join(chunks)) for sha, chunks in parts.items())
        return found

    def blob_size(self, sha256: str) -> int:
        with read_connection(self.engine) as conn:
            size = conn.execute(
                sa.select(schema.blobs.c.size).where(schema.blobs.c.sha256 == sha256)
            ).scalar_one_or_none()
        if size is None:
            raise NotFound(f"no content with SHA-256 {sha256}")
        return int(size)


__all__ = ["CHUNK", "BlobStore", "ContentReader"]

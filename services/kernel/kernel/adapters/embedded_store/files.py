"""Files of the embedded store: content-addressed objects beside the SQLite file, records
in the ``_files`` collection (see the package docstring's *Files*)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Protocol

from kernel.adapters.embedded_store.collection import EmbeddedCollection
from kernel.store import (
    FILE_CHUNK_BYTES,
    Document,
    FileContent,
    FileDigestMismatchError,
    FileMissingError,
    FileTooLargeError,
    StoredFile,
    StoreError,
    content_chunks,
)

FILES_COLLECTION: Final = "_files"


class _FileDatabase(Protocol):
    """What the file store needs of its database (an :class:`EmbeddedStore`)."""

    path: Path
    database: str

    def collection(self, name: str) -> EmbeddedCollection: ...


def _fsync_dir(path: Path) -> None:
    # The rename is durable only once the directory entry is on disk.
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class EmbeddedFileStore:
    """Files of the embedded store (see the package docstring's *Files*)."""

    def __init__(self, store: _FileDatabase) -> None:
        self._records = store.collection(FILES_COLLECTION)
        self.root = store.path.parent / f"{store.database}.files"
        self._lock = asyncio.Lock()

    def _object(self, sha256: str) -> Path:
        return self.root / "objects" / sha256[:2] / sha256

    async def put(
        self,
        content: FileContent,
        *,
        filename: str,
        media_type: str,
        metadata: Mapping[str, Any] | None = None,
        max_size: int | None = None,
        expected_sha256: str | None = None,
    ) -> StoredFile:
        """Stream into a temp file, check, fsync, rename into place, then record."""
        tmp_dir = self.root / "tmp"
        await asyncio.to_thread(tmp_dir.mkdir, parents=True, exist_ok=True)
        file_id = uuid.uuid4().hex
        tmp = tmp_dir / f"{file_id}.part"
        digest = hashlib.sha256()
        size = 0
        handle = await asyncio.to_thread(tmp.open, "wb")
        try:
            try:
                async for chunk in content_chunks(content):
                    size += len(chunk)
                    if max_size is not None and size > max_size:
                        raise FileTooLargeError(
                            f"{filename!r} is larger than {max_size} bytes", limit=max_size
                        )
                    digest.update(chunk)
                    await asyncio.to_thread(handle.write, chunk)
                await asyncio.to_thread(handle.flush)
                await asyncio.to_thread(os.fsync, handle.fileno())
            finally:
                await asyncio.to_thread(handle.close)
            actual = digest.hexdigest()
            if expected_sha256 is not None and expected_sha256.lower() != actual:
                raise FileDigestMismatchError(
                    f"{filename!r} has SHA-256 {actual}, not the declared {expected_sha256}",
                    declared=expected_sha256,
                    actual=actual,
                )
            target = self._object(actual)
            record: Document = {
                "_id": file_id,
                "filename": filename,
                "media_type": media_type,
                "size": size,
                "sha256": actual,
                "uploaded_at": datetime.now(UTC),
                "metadata": dict(metadata or {}),
            }
            async with self._lock:
                await asyncio.to_thread(self._place, tmp, target)
                await self._records.insert_one(record)
        finally:
            with contextlib.suppress(FileNotFoundError):
                await asyncio.to_thread(tmp.unlink)
        return _embedded_file(record)

    @staticmethod
    def _place(tmp: Path, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            return  # same digest, same content: stored once
        os.replace(tmp, target)
        _fsync_dir(target.parent)

    async def info(self, file_id: str) -> StoredFile:
        """The file's record."""
        found = await self._records.find_one({"_id": file_id})
        if found is None:
            raise FileMissingError(f"no file {file_id!r} in {self.root}")
        return _embedded_file(found)

    async def open(self, file_id: str) -> tuple[StoredFile, AsyncIterator[bytes]]:
        """The record and the content in ``FILE_CHUNK_BYTES`` chunks."""
        record = await self.info(file_id)
        path = self._object(record.sha256)
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError:
            raise StoreError(
                f"file {file_id!r} is recorded but its content {path} is missing"
            ) from None

        async def chunks() -> AsyncIterator[bytes]:
            try:
                while chunk := await asyncio.to_thread(handle.read, FILE_CHUNK_BYTES):
                    yield chunk
            finally:
                await asyncio.to_thread(handle.close)

        return record, chunks()

    async def read(self, file_id: str) -> bytes:
        """The whole content, checked against the recorded digest."""
        record, chunks = await self.open(file_id)
        data = b"".join([chunk async for chunk in chunks])
        if hashlib.sha256(data).hexdigest() != record.sha256:
            raise StoreError(f"file {file_id!r}: content does not match its SHA-256 (damaged)")
        return data

    async def exists(self, file_id: str) -> bool:
        """Whether the record exists."""
        return await self._records.count({"_id": file_id}) > 0

    async def delete(self, file_id: str) -> bool:
        """Remove the record, and the object when no other record shares it."""
        async with self._lock:
            found = await self._records.find_one({"_id": file_id})
            if found is None:
                return False
            await self._records.delete_one({"_id": file_id})
            if await self._records.count({"sha256": found["sha256"]}) == 0:
                with contextlib.suppress(FileNotFoundError):
                    await asyncio.to_thread(self._object(found["sha256"]).unlink)
        return True


def _embedded_file(doc: Mapping[str, Any]) -> StoredFile:
    return StoredFile(
        id=doc["_id"],
        filename=doc["filename"],
        media_type=doc["media_type"],
        size=doc["size"],
        sha256=doc["sha256"],
        uploaded_at=doc["uploaded_at"],
        metadata=dict(doc.get("metadata") or {}),
    )

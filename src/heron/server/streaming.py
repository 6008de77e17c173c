"""Artifact bytes in and out without holding a file in memory.

Downloads: a generator reading 1 MiB chunks, which StreamingResponse consumes in a thread.
Uploads: the synchronous artifact store reads from a file object whose ``read`` pulls the
next request chunks from the event loop (anyio.from_thread), so at most about one chunk
of an upload of any size is in memory, and a slow store slows the client (backpressure).
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, BinaryIO

import anyio.from_thread

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

CHUNK_SIZE = 1 << 20  # 1 MiB


def iter_chunks(handle: BinaryIO) -> Iterator[bytes]:
    """Yield ``handle`` in 1 MiB chunks and close it, also when the client goes away
    (the generator is closed, running ``finally``)."""
    try:
        while chunk := handle.read(CHUNK_SIZE):
            yield chunk
    finally:
        handle.close()


def size_of(handle: BinaryIO) -> int | None:
    """The byte size of a seekable file (for Content-Length), None if it cannot tell."""
    try:
        size = handle.seek(0, io.SEEK_END)
        handle.seek(0)
    except (OSError, ValueError, AttributeError):
        return None
    return size


class _RequestBodyReader(io.RawIOBase):
    """A raw binary stream over an async iterator of chunks, read from a worker thread
    that anyio started (``anyio.to_thread.run_sync``)."""

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        super().__init__()
        self._chunks = chunks
        self._pending = memoryview(b"")
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        target = memoryview(buffer).cast("B")
        if not self._pending and not self._eof:
            self._pending = memoryview(anyio.from_thread.run(self._gather, len(target)))
        count = min(len(target), len(self._pending))
        target[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count

    async def _gather(self, wanted: int) -> bytes:
        # One trip to the event loop per ``wanted`` bytes, not per (often 64 KiB) chunk.
        parts: list[bytes] = []
        size = 0
        while size < wanted:
            try:
                chunk = await self._chunks.__anext__()
            except StopAsyncIteration:
                self._eof = True
                break
            parts.append(chunk)
            size += len(chunk)
        return b"".join(parts)


def body_reader(chunks: AsyncIterator[bytes]) -> BinaryIO:
    """A file object for a synchronous consumer in a worker thread; see the module doc."""
    return io.BufferedReader(_RequestBodyReader(chunks), buffer_size=CHUNK_SIZE)

"""Artifact routes: streamed upload and download, listing, and path traversal refused."""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pytest

from heron.server import ServerSettings, create_app
from heron.server.streaming import CHUNK_SIZE, body_reader

with warnings.catch_warnings():
    # Starlette asks for httpx2, which the project does not install yet; httpx works.
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

API = "/api/v1"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = ServerSettings(
        f"sqlite:///{tmp_path / 'heron.db'}",
        str(tmp_path / "artifacts"),
        max_request_bytes=1000,  # artifact uploads must not be held to the JSON limit
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def run_id(client: TestClient) -> str:
    eid = client.post(f"{API}/experiments", json={"name": "e"}).json()["id"]
    rid: str = client.post(f"{API}/runs", json={"experiment_id": eid}).json()["id"]
    return rid


def _content(run_id: str) -> str:
    return f"{API}/runs/{run_id}/artifacts/content"


def _error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def test_upload_list_download(client: TestClient, run_id: str) -> None:
    put = client.put(_content(run_id), params={"path": "plots/roc.png"}, content=b"png" * 1000)
    assert put.status_code == 204, put.text
    client.put(_content(run_id), params={"path": "notes.txt"}, content=b"hello")

    top = client.get(f"{API}/runs/{run_id}/artifacts").json()["files"]
    hello = hashlib.sha256(b"hello").hexdigest()
    assert top == [
        {"path": "notes.txt", "is_dir": False, "size": 5, "sha256": hello},
        {"path": "plots", "is_dir": True, "size": None, "sha256": None},
    ]
    plots = client.get(f"{API}/runs/{run_id}/artifacts", params={"path": "plots"}).json()
    roc = hashlib.sha256(b"png" * 1000).hexdigest()
    assert plots == {
        "files": [{"path": "plots/roc.png", "is_dir": False, "size": 3000, "sha256": roc}]
    }

    got = client.get(_content(run_id), params={"path": "notes.txt"})
    assert got.status_code == 200
    assert got.content == b"hello"
    assert got.headers["x-heron-sha256"] == hello
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["content-length"] == "5"


def test_large_artifact_streams_both_ways(client: TestClient, run_id: str) -> None:
    block = os.urandom(CHUNK_SIZE)
    sent = hashlib.sha256()

    def body() -> Iterator[bytes]:
        for i in range(50):
            chunk = bytes([i]) + block[1:]
            sent.update(chunk)
            yield chunk

    put = client.put(_content(run_id), params={"path": "model/weights.bin"}, content=body())
    assert put.status_code == 204, put.text

    received = hashlib.sha256()
    size = 0
    with client.stream("GET", _content(run_id), params={"path": "model/weights.bin"}) as got:
        assert got.status_code == 200
        assert got.headers["content-length"] == str(50 * CHUNK_SIZE)
        for chunk in got.iter_bytes():
            received.update(chunk)
            size += len(chunk)
    assert size == 50 * CHUNK_SIZE
    assert received.hexdigest() == sent.hexdigest()


TRAVERSALS = [
    "../escape.txt",
    "a/../../escape.txt",
    "/etc/passwd",
    "..\\escape.txt",
    "a\\..\\..\\escape.txt",
]
# Already percent-encoded query strings, so the server does the decoding.
ENCODED_TRAVERSALS = ["..%2F..%2Fescape.txt", "%2E%2E%2Fescape.txt", "..%5Cescape.txt", "%2Fetc"]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_path_traversal_is_refused(client: TestClient, run_id: str, path: str) -> None:
    _error(
        client.put(_content(run_id), params={"path": path}, content=b"x"), 400, "INVALID_ARGUMENT"
    )
    _error(client.get(_content(run_id), params={"path": path}), 400, "INVALID_ARGUMENT")
    listing = client.get(f"{API}/runs/{run_id}/artifacts", params={"path": path})
    _error(listing, 400, "INVALID_ARGUMENT")


@pytest.mark.parametrize("query", ENCODED_TRAVERSALS)
def test_encoded_path_traversal_is_refused(
    client: TestClient, run_id: str, query: str, tmp_path: Path
) -> None:
    put = client.put(f"{_content(run_id)}?path={query}", content=b"x")
    _error(put, 400, "INVALID_ARGUMENT")
    _error(client.get(f"{_content(run_id)}?path={query}"), 400, "INVALID_ARGUMENT")
    assert not list(tmp_path.rglob("escape.txt"))


def test_artifact_errors(client: TestClient, run_id: str) -> None:
    _error(client.get(_content(run_id), params={"path": "missing.bin"}), 404, "NOT_FOUND")
    _error(client.get(_content("nope"), params={"path": "a.txt"}), 404, "NOT_FOUND")
    _error(client.put(_content("nope"), params={"path": "a.txt"}, content=b"x"), 404, "NOT_FOUND")
    _error(client.put(_content(run_id), content=b"x"), 400, "INVALID_ARGUMENT")  # no path
    _error(client.put(_content(run_id), params={"path": ""}, content=b"x"), 400, "INVALID_ARGUMENT")
    _error(client.get(f"{API}/runs/nope/artifacts"), 404, "NOT_FOUND")
    client.delete(f"{API}/runs/{run_id}")
    deleted = client.put(_content(run_id), params={"path": "a.txt"}, content=b"x")
    _error(deleted, 400, "INVALID_ARGUMENT")


def test_body_reader_pulls_only_what_is_read() -> None:
    produced = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal produced
        for _ in range(100):
            produced += 1
            yield b"x" * 65_536

    def consume(reader: Any) -> list[int]:
        first = len(reader.read(CHUNK_SIZE))
        pulled_after_first = produced
        rest = len(reader.read())
        return [first, pulled_after_first, rest]

    async def main() -> list[int]:
        reader = body_reader(chunks())
        result: list[int] = await anyio.to_thread.run_sync(consume, reader)
        return result

    first, pulled_after_first, rest = anyio.run(main)
    assert first == CHUNK_SIZE
    assert pulled_after_first <= CHUNK_SIZE // 65_536 + 1  # no read-ahead of the whole body
    assert first + rest == 100 * 65_536

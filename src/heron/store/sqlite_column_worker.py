"""A helper process of heron.store.sqlite_columns: reads SQLite columns with ADBC.

Run as a script (the file's path, not ``-m``). It reads requests (database URI,
statement, parameters) from stdin and answers each on stdout with ``("ok", columns)``
(numpy arrays) or ``("error", message)``, until stdin closes. Both directions are pickle
frames with a length prefix; only the parent process that started the helper writes to
it, so nothing untrusted is unpickled.
"""

from __future__ import annotations

import os
import pickle
import struct
import sys
from typing import IO, Any

_LENGTH = struct.Struct("!Q")
# Wait for a writer's lock as the store's own connections do (engine._tune_sqlite).
_BUSY_TIMEOUT_MS = 30_000


def send(stream: IO[bytes], message: Any) -> None:
    payload = pickle.dumps(message, protocol=5)
    stream.write(_LENGTH.pack(len(payload)))
    stream.write(payload)
    stream.flush()


def receive(stream: IO[bytes]) -> Any:
    """The next message; None at end of input."""
    header = stream.read(_LENGTH.size)
    if len(header) < _LENGTH.size:
        return None
    (size,) = _LENGTH.unpack(header)
    payload = stream.read(size)
    if len(payload) < size:
        return None
    return pickle.loads(payload)


# The functions below run only in the helper process, where coverage measures nothing:
# it names its source by package, and the helper never imports the heron package. The
# tests of heron.store.sqlite_columns drive them through real helpers.


def _connect(uri: str) -> Any:  # pragma: no cover
    import adbc_driver_sqlite.dbapi as adbc

    # Autocommit: each read sees what was committed before it (a DB-API transaction
    # left open would keep the first read's snapshot for the connection's lifetime).
    connection = adbc.connect(uri, autocommit=True)
    cursor = connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        cursor.fetchall()
    finally:
        cursor.close()
    return connection


def _read(connection: Any, sql: str, parameters: tuple[Any, ...]) -> list[Any]:  # pragma: no cover
    import numpy as np

    cursor = connection.cursor()
    try:
        cursor.execute(sql, parameters)
        table = cursor.fetch_arrow_table()
    finally:
        cursor.close()
    return [np.asarray(column.to_numpy()) for column in table.columns]


def main() -> None:  # pragma: no cover
    # Answers go to the original stdout; anything else that prints goes to stderr, so a
    # stray print or warning cannot corrupt a frame.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    requests = sys.stdin.buffer
    # Imported before the first request, not on it: a server starts its helpers with the
    # app, so that its first chart does not wait for pyarrow and the driver to load.
    import adbc_driver_sqlite.dbapi  # noqa: F401
    import numpy  # noqa: F401

    connections: dict[str, Any] = {}
    while (request := receive(requests)) is not None:
        uri, sql, parameters = request
        try:
            if uri not in connections:
                connections[uri] = _connect(uri)
            answer: tuple[str, Any] = ("ok", _read(connections[uri], sql, parameters))
        except Exception as error:  # reported to the parent, which raises it
            answer = ("error", f"{type(error).__name__}: {error}")
        send(answers, answer)


if __name__ == "__main__":  # pragma: no cover
    main()

"""Serving endpoints on SQLAlchemy Core, in the tracking store's database."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from heron.entities.endpoint import Endpoint, EndpointBatching, EndpointRoute
from heron.errors import AlreadyExists, Conflict, NotFound
from heron.store.endpoint_base import EndpointStore
from heron.store.endpoint_schema import endpoint_routes, endpoints
from heron.store.engine import Engines

ROUTE = "route"
SHADOW = "shadow"


class SqlEndpointStore(EndpointStore):
    def __init__(self, engines: Engines) -> None:
        """Use the engines of an open ``SqlTrackingStore``, which owns the schema."""
        self._engines = engines

    def create_endpoint(self, endpoint: Endpoint) -> Endpoint:
        try:
            with self._engines.writer.begin() as conn:
                endpoint_id = conn.execute(
                    insert(endpoints)
                    .values(**_endpoint_values(endpoint), name=endpoint.name)
                    .returning(endpoints.c.endpoint_id)
                ).scalar_one()
                _insert_routes(conn, endpoint_id, endpoint)
        except IntegrityError:
            raise AlreadyExists(
                f"endpoint {endpoint.name!r} already exists; update it or choose another name"
            ) from None
        self._engines.committed()
        return endpoint

    def get_endpoint(self, name: str) -> Endpoint:
        with self._engines.reader.connect() as conn:
            row = conn.execute(select(endpoints).where(endpoints.c.name == name)).first()
            if row is None:
                raise NotFound(f"endpoint {name!r} does not exist")
            return _load(conn, [row])[0]

    def list_endpoints(self) -> list[Endpoint]:
        with self._engines.reader.connect() as conn:
            rows = conn.execute(select(endpoints).order_by(endpoints.c.name)).all()
            return _load(conn, rows)

    def replace_endpoint(self, endpoint: Endpoint, expected_revision: int) -> Endpoint:
        stored = replace(endpoint, revision=expected_revision + 1)
        with self._engines.writer.begin() as conn:
            row = conn.execute(
                select(endpoints.c.endpoint_id, endpoints.c.revision)
                .where(endpoints.c.name == endpoint.name)
                .with_for_update()
            ).first()
            if row is None:
                raise NotFound(f"endpoint {endpoint.name!r} does not exist")
            if row.revision != expected_revision:
                raise Conflict(
                    f"endpoint {endpoint.name!r} changed since revision {expected_revision} "
                    f"(now {row.revision}); read it again and retry"
                )
            conn.execute(
                update(endpoints)
                .where(endpoints.c.endpoint_id == row.endpoint_id)
                .values(**_endpoint_values(stored))
            )
            conn.execute(
                delete(endpoint_routes).where(endpoint_routes.c.endpoint_id == row.endpoint_id)
            )
            _insert_routes(conn, row.endpoint_id, stored)
        self._engines.committed()
        return stored

    def delete_endpoint(self, name: str) -> None:
        with self._engines.writer.begin() as conn:
            row = conn.execute(
                select(endpoints.c.endpoint_id).where(endpoints.c.name == name)
            ).first()
            if row is None:
                raise NotFound(f"endpoint {name!r} does not exist")
            # Routes first: SQLite enforces ON DELETE CASCADE only with foreign_keys=ON.
            conn.execute(
                delete(endpoint_routes).where(endpoint_routes.c.endpoint_id == row.endpoint_id)
            )
            conn.execute(delete(endpoints).where(endpoints.c.endpoint_id == row.endpoint_id))
        self._engines.committed()


def _endpoint_values(endpoint: Endpoint) -> dict[str, Any]:
    return {
        "description": endpoint.description,
        "revision": endpoint.revision,
        "max_batch_size": endpoint.batching.max_batch_size,
        "max_latency_ms": endpoint.batching.max_latency_ms,
        "created_time": endpoint.created_at,
        "updated_time": endpoint.updated_at,
    }


def _insert_routes(conn: Connection, endpoint_id: int, endpoint: Endpoint) -> None:
    rows = [
        {"kind": ROUTE, "model_uri": r.model_uri, "weight": r.weight} for r in endpoint.routes
    ] + [{"kind": SHADOW, "model_uri": uri, "weight": 0} for uri in endpoint.shadows]
    conn.execute(
        insert(endpoint_routes),
        [{"endpoint_id": endpoint_id, "position": i, **row} for i, row in enumerate(rows)],
    )


def _load(conn: Connection, rows: Sequence[Row[Any]]) -> list[Endpoint]:
    if not rows:
        return []
    ids = [row.endpoint_id for row in rows]
    routes: dict[int, list[Row[Any]]] = {i: [] for i in ids}
    for route in conn.execute(
        select(endpoint_routes)
        .where(endpoint_routes.c.endpoint_id.in_(ids))
        .order_by(endpoint_routes.c.endpoint_id, endpoint_routes.c.position)
    ):
        routes[route.endpoint_id].append(route)
    return [_endpoint(row, routes[row.endpoint_id]) for row in rows]


def _endpoint(row: Row[Any], routes: Iterable[Row[Any]]) -> Endpoint:
    listed = list(routes)
    return Endpoint(
        name=row.name,
        description=row.description,
        routes=tuple(EndpointRoute(r.model_uri, r.weight) for r in listed if r.kind == ROUTE),
        shadows=tuple(r.model_uri for r in listed if r.kind == SHADOW),
        batching=EndpointBatching(row.max_batch_size, row.max_latency_ms),
        revision=row.revision,
        created_at=row.created_time,
        updated_at=row.updated_time,
    )

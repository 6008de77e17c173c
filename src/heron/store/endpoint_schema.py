"""Tables of serving endpoints, in the same metadata (and database) as tracking."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from heron.store.schema import BigIntPK, metadata

endpoints = Table(
    "endpoints",
    metadata,
    Column("endpoint_id", BigIntPK, primary_key=True, autoincrement=True),
    Column("name", String(256), nullable=False, unique=True),
    Column("description", Text, nullable=False),
    # Bumped by every change; scoring servers compare it to decide whether to reload.
    Column("revision", BigInteger, nullable=False),
    Column("max_batch_size", Integer, nullable=False),
    Column("max_latency_ms", Float, nullable=False),
    Column("created_time", BigInteger, nullable=False),
    Column("updated_time", BigInteger, nullable=False),
)

endpoint_routes = Table(
    "endpoint_routes",
    metadata,
    Column(
        "endpoint_id",
        BigInteger,
        ForeignKey("endpoints.endpoint_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("position", Integer, nullable=False),
    # "route" (answers, by weight) or "shadow" (mirrored, its answer discarded).
    Column("kind", String(16), nullable=False),
    Column("model_uri", Text, nullable=False),
    Column("weight", Integer, nullable=False),
    PrimaryKeyConstraint("endpoint_id", "position"),
)

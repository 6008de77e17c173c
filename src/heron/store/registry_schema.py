"""Tables of the model registry, in the same metadata (and database) as tracking.

Models are keyed by an integer id so that a rename touches one row, and the audit log
keeps that id (not a foreign key) so that history outlives renames and deletions.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from heron.store.schema import BigIntPK, metadata

registered_models = Table(
    "registered_models",
    metadata,
    Column("model_id", BigIntPK, primary_key=True, autoincrement=True),
    Column("name", String(256), nullable=False, unique=True),
    Column("description", Text, nullable=False),
    Column("owner", String(256), nullable=False),
    Column("created_time", BigInteger, nullable=False),
    Column("updated_time", BigInteger, nullable=False),
    Column("lifecycle_stage", String(16), nullable=False),
    # Bumped by every alias or stage move: a move made against a stale view of the
    # model's labels fails instead of silently overwriting a concurrent one.
    Column("label_revision", BigInteger, nullable=False),
    Column("protected_aliases", Text, nullable=False),  # JSON list
    Column("allow_self_approval", Boolean, nullable=False),
)

registered_model_tags = Table(
    "registered_model_tags",
    metadata,
    Column(
        "model_id",
        BigInteger,
        ForeignKey("registered_models.model_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("key", String(250), nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("model_id", "key"),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column(
        "model_id",
        BigInteger,
        ForeignKey("registered_models.model_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("version", Integer, nullable=False),
    Column("source", Text, nullable=False),
    Column("run_id", String(32), nullable=True),
    Column("artifact_path", Text, nullable=False),
    Column("status", String(32), nullable=False),
    Column("status_message", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("stage", String(16), nullable=False),
    Column("signature", Text, nullable=False),
    Column("created_by", String(256), nullable=False),
    Column("created_time", BigInteger, nullable=False),
    Column("updated_time", BigInteger, nullable=False),
    Column("lifecycle_stage", String(16), nullable=False),
    PrimaryKeyConstraint("model_id", "version"),
    Index("ix_model_versions_run_id", "run_id"),
)

model_version_tags = Table(
    "model_version_tags",
    metadata,
    Column("model_id", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("model_id", "version", "key"),
    ForeignKeyConstraint(
        ["model_id", "version"],
        ["model_versions.model_id", "model_versions.version"],
        ondelete="CASCADE",
    ),
)

model_aliases = Table(
    "model_aliases",
    metadata,
    Column("model_id", BigInteger, nullable=False),
    Column("alias", String(256), nullable=False),
    Column("version", Integer, nullable=False),
    PrimaryKeyConstraint("model_id", "alias"),
    ForeignKeyConstraint(
        ["model_id", "version"],
        ["model_versions.model_id", "model_versions.version"],
        ondelete="CASCADE",
    ),
)

transition_requests = Table(
    "transition_requests",
    metadata,
    Column("request_id", BigIntPK, primary_key=True, autoincrement=True),
    Column("model_id", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
    Column("target", String(300), nullable=False),
    Column("status", String(16), nullable=False),
    Column("requested_by", String(256), nullable=False),
    Column("created_time", BigInteger, nullable=False),
    Column("comment", Text, nullable=False),
    Column("resolved_by", String(256), nullable=True),
    Column("resolved_time", BigInteger, nullable=True),
    Column("resolution_comment", Text, nullable=False),
    ForeignKeyConstraint(
        ["model_id", "version"],
        ["model_versions.model_id", "model_versions.version"],
        ondelete="CASCADE",
    ),
    Index("ix_transition_requests_model_status", "model_id", "status"),
)

registry_audit = Table(
    "registry_audit",
    metadata,
    Column("event_id", BigIntPK, primary_key=True, autoincrement=True),
    Column("at", BigInteger, nullable=False),
    Column("actor", String(256), nullable=False),
    Column("action", String(64), nullable=False),
    Column("model_id", BigInteger, nullable=True),
    Column("model_name", String(256), nullable=True),
    Column("version", Integer, nullable=True),
    Column("before", Text, nullable=True),  # JSON
    Column("after", Text, nullable=True),  # JSON
    Column("reason", Text, nullable=False),
    Column("outcome", Text, nullable=False),
    Index("ix_registry_audit_model", "model_id", "event_id"),
)

registry_roles = Table(
    "registry_roles",
    metadata,
    Column("user_name", String(256), nullable=False),
    Column("role", String(32), nullable=False),
    Column("granted_by", String(256), nullable=False),
    Column("granted_time", BigInteger, nullable=False),
    PrimaryKeyConstraint("user_name", "role"),
)

"""Tables of logged models (MLflow 3), in the same metadata (and database) as tracking."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from heron.store.schema import BigIntPK, metadata

logged_models = Table(
    "logged_models",
    metadata,
    Column("model_id", String(64), primary_key=True),
    Column(
        "experiment_id",
        BigInteger,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(500), nullable=False),
    Column("artifact_location", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("status_message", Text, nullable=False),
    Column("creator", String(256), nullable=False),
    Column("model_type", String(500), nullable=False),
    # Not a foreign key: a model outlives the run that logged it, as in MLflow.
    Column("source_run_id", String(32), nullable=True),
    Column("lifecycle_stage", String(16), nullable=False),
    Column("created_time", BigInteger, nullable=False),
    Column("updated_time", BigInteger, nullable=False),
    # Searches list an experiment's models newest first.
    Index("ix_logged_models_experiment_created", "experiment_id", "created_time"),
    Index("ix_logged_models_source_run", "source_run_id"),
)

logged_model_params = Table(
    "logged_model_params",
    metadata,
    Column(
        "model_id",
        String(64),
        ForeignKey("logged_models.model_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("key", String(250), nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("model_id", "key"),
)

logged_model_tags = Table(
    "logged_model_tags",
    metadata,
    Column(
        "model_id",
        String(64),
        ForeignKey("logged_models.model_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("key", String(250), nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("model_id", "key"),
)

# Which logged models a run produced (MLflow's run outputs).
run_model_outputs = Table(
    "run_model_outputs",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.run_id", ondelete="CASCADE"), nullable=False),
    Column("model_id", String(64), nullable=False),
    Column("step", BigInteger, nullable=False),
    PrimaryKeyConstraint("run_id", "model_id"),
)

# What was stored for each file of a logged model, as ``artifact_files`` for runs.
logged_model_files = Table(
    "logged_model_files",
    metadata,
    Column(
        "model_id",
        String(64),
        ForeignKey("logged_models.model_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("path", String(1000), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("stored_time", BigInteger, nullable=False),
    PrimaryKeyConstraint("model_id", "path"),
)

# Metric points logged with a model id (MLflow 3's ``log_metric(..., model_id=...)``),
# every one, in arrival order; the run's own history has them too. NaN as in ``metrics``.
logged_model_metrics = Table(
    "logged_model_metrics",
    metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column(
        "model_id",
        String(64),
        ForeignKey("logged_models.model_id", ondelete="CASCADE"),
        nullable=False,
    ),
    # Not a foreign key, as source_run_id: a model outlives the runs that evaluated it.
    Column("run_id", String(32), nullable=True),
    Column("key", String(250), nullable=False),
    Column("value", Float(precision=53), nullable=True),
    Column("is_nan", Boolean, nullable=False, default=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("dataset_name", String(500), nullable=True),
    Column("dataset_digest", String(64), nullable=True),
    Index("ix_logged_model_metrics_model", "model_id", "id"),
)

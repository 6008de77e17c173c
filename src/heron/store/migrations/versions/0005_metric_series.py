"""metric series: history rows keyed by an integer series id

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 16:20:00.000000

The history rows carried the 32-character run id and the key; they now carry the id of
their (run, key) series in ``metric_series``. Existing points are copied over with
their ids, so points logged with the same step and timestamp keep their order.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _set_aside(table: str, old_name: str) -> None:
    """Rename ``table`` so a new one can take its name (and, on PostgreSQL, its
    primary key index and id sequence names, which live in the schema's namespace)."""
    op.rename_table(table, old_name)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {old_name} RENAME CONSTRAINT pk_{table} TO pk_{old_name}")
        op.execute(f"ALTER SEQUENCE {table}_id_seq RENAME TO {old_name}_id_seq")


def _continue_ids(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Rows were copied with their ids: the new sequence must start after them.
        op.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        )


def upgrade() -> None:
    op.create_table(
        "metric_series",
        sa.Column("series_id", _ID, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.run_id"],
            name=op.f("fk_metric_series_run_id_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("series_id", name=op.f("pk_metric_series")),
        sa.UniqueConstraint("run_id", "key", name=op.f("uq_metric_series_run_id_key")),
    )
    op.execute(
        "INSERT INTO metric_series (run_id, key) "
        "SELECT run_id, key FROM metrics UNION SELECT run_id, key FROM latest_metrics"
    )
    op.drop_index("ix_metrics_run_key_step", table_name="metrics")
    _set_aside("metrics", "metrics_0004")
    op.create_table(
        "metrics",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("series_id", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Float(precision=53), nullable=True),
        sa.Column("is_nan", sa.Boolean(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["metric_series.series_id"],
            name=op.f("fk_metrics_series_id_metric_series"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metrics")),
    )
    op.execute(
        "INSERT INTO metrics (id, series_id, value, is_nan, timestamp, step) "
        "SELECT m.id, s.series_id, m.value, m.is_nan, m.timestamp, m.step "
        "FROM metrics_0004 m JOIN metric_series s ON s.run_id = m.run_id AND s.key = m.key"
    )
    op.drop_table("metrics_0004")
    _continue_ids("metrics")
    # Built after the copy: one sort instead of a million index insertions.
    op.create_index(
        "ix_metrics_series_step", "metrics", ["series_id", "step", "timestamp", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_metrics_series_step", table_name="metrics")
    _set_aside("metrics", "metrics_0005")
    op.create_table(
        "metrics",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Float(precision=53), nullable=True),
        sa.Column("is_nan", sa.Boolean(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.run_id"], name=op.f("fk_metrics_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metrics")),
    )
    op.execute(
        "INSERT INTO metrics (id, run_id, key, value, is_nan, timestamp, step) "
        "SELECT m.id, s.run_id, s.key, m.value, m.is_nan, m.timestamp, m.step "
        "FROM metrics_0005 m JOIN metric_series s ON s.series_id = m.series_id"
    )
    op.drop_table("metrics_0005")
    op.drop_table("metric_series")
    _continue_ids("metrics")
    op.create_index("ix_metrics_run_key_step", "metrics", ["run_id", "key", "step"], unique=False)

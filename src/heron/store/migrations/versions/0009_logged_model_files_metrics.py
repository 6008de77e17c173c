"""logged models: checksums of their files, and metrics logged with a model id

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 19:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "logged_model_files",
        sa.Column("model_id", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("stored_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["logged_models.model_id"],
            name=op.f("fk_logged_model_files_model_id_logged_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("model_id", "path", name=op.f("pk_logged_model_files")),
    )
    op.create_table(
        "logged_model_metrics",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("model_id", sa.String(length=64), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Float(precision=53), nullable=True),
        sa.Column("is_nan", sa.Boolean(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("dataset_name", sa.String(length=500), nullable=True),
        sa.Column("dataset_digest", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["logged_models.model_id"],
            name=op.f("fk_logged_model_metrics_model_id_logged_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_logged_model_metrics")),
    )
    op.create_index("ix_logged_model_metrics_model", "logged_model_metrics", ["model_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_logged_model_metrics_model", table_name="logged_model_metrics")
    op.drop_table("logged_model_metrics")
    op.drop_table("logged_model_files")

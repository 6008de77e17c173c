"""logged models (MLflow 3): models, their params and tags, and runs' model outputs

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 17:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "logged_models",
        sa.Column("model_id", sa.String(length=64), nullable=False),
        sa.Column("experiment_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("artifact_location", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_message", sa.Text(), nullable=False),
        sa.Column("creator", sa.String(length=256), nullable=False),
        sa.Column("model_type", sa.String(length=500), nullable=False),
        sa.Column("source_run_id", sa.String(length=32), nullable=True),
        sa.Column("lifecycle_stage", sa.String(length=16), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("updated_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.experiment_id"],
            name=op.f("fk_logged_models_experiment_id_experiments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("model_id", name=op.f("pk_logged_models")),
    )
    op.create_index(
        "ix_logged_models_experiment_created",
        "logged_models",
        ["experiment_id", "created_time"],
    )
    op.create_index("ix_logged_models_source_run", "logged_models", ["source_run_id"])
    for table in ("logged_model_params", "logged_model_tags"):
        op.create_table(
            table,
            sa.Column("model_id", sa.String(length=64), nullable=False),
            sa.Column("key", sa.String(length=250), nullable=False),
            sa.Column("value", sa.Text(), nullable=False),
            sa.ForeignKeyConstraint(
                ["model_id"],
                ["logged_models.model_id"],
                name=op.f(f"fk_{table}_model_id_logged_models"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("model_id", "key", name=op.f(f"pk_{table}")),
        )
    op.create_table(
        "run_model_outputs",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("model_id", sa.String(length=64), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.run_id"],
            name=op.f("fk_run_model_outputs_run_id_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "model_id", name=op.f("pk_run_model_outputs")),
    )


def downgrade() -> None:
    op.drop_table("run_model_outputs")
    op.drop_table("logged_model_tags")
    op.drop_table("logged_model_params")
    op.drop_index("ix_logged_models_source_run", table_name="logged_models")
    op.drop_index("ix_logged_models_experiment_created", table_name="logged_models")
    op.drop_table("logged_models")

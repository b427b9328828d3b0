"""go-live: notifications made in shadow mode, review verdicts, live memory of older stores

Revision ID: 0007_go_live
Revises: 0005
Create Date: 2026-12-14 09:00:00.000000

A store that already ran syncs was delivering before shadow mode existed: it is recorded as
live (``mode.live_since``), so a practice file without ``mode`` keeps delivering after the
upgrade instead of falling silent (chartroute/mode.py).
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0007_go_live"
down_revision = "0005"
branch_labels = None
depends_on = None

LIVE_SINCE = "mode.live_since"


def upgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("shadow", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "review_verdict",
        sa.Column("chart", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("correct_category", sa.String(length=32), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=True),
        sa.Column("assignee", sa.String(length=64), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("work_item_id", sa.String(length=32), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chart", "category", "subject", name=op.f("pk_review_verdict")),
    )
    op.create_index("ix_review_verdict_category", "review_verdict", ["category"], unique=False)
    _remember_stores_that_delivered()


def _remember_stores_that_delivered() -> None:
    conn = op.get_bind()
    ran = conn.execute(sa.text("SELECT 1 FROM sync_run LIMIT 1")).first()
    notified = conn.execute(sa.text("SELECT 1 FROM notification LIMIT 1")).first()
    known = conn.execute(
        sa.text("SELECT 1 FROM setting WHERE name = :name"), {"name": LIVE_SINCE}
    ).first()
    if (ran or notified) and not known:
        conn.execute(
            sa.text("INSERT INTO setting (name, value) VALUES (:name, :value)"),
            {"name": LIVE_SINCE, "value": datetime.now(UTC).isoformat()},
        )


def downgrade() -> None:
    op.execute(sa.text(f"DELETE FROM setting WHERE name = '{LIVE_SINCE}'"))
    op.drop_index("ix_review_verdict_category", table_name="review_verdict")
    op.drop_table("review_verdict")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_column("shadow")

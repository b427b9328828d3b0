"""line hash: recognise a re-exported record's line as the one its fact was read from

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 18:00:00.000000

An EHR's Bulk export without ``_since`` re-exports every record; the sync read each again,
decoded, screened and compared it, to store the 1% that changed. With the hash of the line a
fact was read from, a line already stored is recognised before it is decoded
(``chartroute/stored_lines.py``). Existing facts have none: the first re-read fills it in.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("fact", schema=None) as batch_op:
        batch_op.add_column(sa.Column("line_hash", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("fact", schema=None) as batch_op:
        batch_op.drop_column("line_hash")

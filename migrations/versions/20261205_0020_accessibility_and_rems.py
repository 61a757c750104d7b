"""Accessibility as a vocabulary and the Spravato REMS per location; one clinician's credential
and specialty together in the read model.

Each location gets ``accessibility_features`` (terms from a fixed list), ``rems_certified`` and
``rems_certified_on``. The free-text note stays as it was and is mapped to the terms it clearly
says (below); a listing that said it was REMS-certified as a whole makes each of its locations so
(the date is not known). The read model gains a column per location for each, and the
credential:specialty pairs of the listing's clinicians; it is made again.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

#: What a note must say for a term to be taken from it: the phrases people write for it. Kept here,
#: frozen with this revision (a later change to the vocabulary is a later migration).
SAYS = {
    "step_free_entrance": r"step[- ]free|no steps|wheelchair[- ](accessible|friendly)|\bramp\b|level entr|ada[- ]accessible entr|accessible entr",
    "accessible_restroom": r"accessible (rest ?room|bathroom|toilet|washroom)|(rest ?room|bathroom|toilet)s? (is |are )?(wheelchair[- ])?accessible|ada (rest ?room|bathroom)",
    "elevator": r"\belevators?\b|\blifts?\b",
    "accessible_parking": r"(accessible|handicap(ped)?|disabled|ada) parking",
    "sign_language_interpreter": r"sign language|\basl\b",
    "service_animals_welcome": r"service (animal|dog)s?",
    "hearing_loop": r"hearing loop|induction loop|t-coil",
    "large_print": r"large[- ]print",
    "quiet_room": r"quiet room|sensory[- ]friendly|low[- ]stimulation",
    "near_public_transit": r"public transit|bus (stop|line|route)|subway|metro station|train station|light rail",
}


def terms_in(note: str | None) -> list[str]:
    text = (note or "").lower()
    return [term for term, pattern in SAYS.items() if re.search(pattern, text) and not re.search(r"\bno(t)? (" + pattern + ")", text)]


def upgrade() -> None:
    # Plain ADD COLUMN (a batch would make SQLite's table again, and lose its R*Tree triggers).
    op.add_column("location", sa.Column("accessibility_features", JSON, nullable=False, server_default="[]"))
    op.add_column("location", sa.Column("rems_certified", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("location", sa.Column("rems_certified_on", sa.Date()))
    connection = op.get_bind()
    location = sa.table("location", sa.column("id"), sa.column("provider_id"), sa.column("accessibility"), sa.column("accessibility_features", JSON), sa.column("rems_certified"))
    provider = sa.table("provider", sa.column("id"), sa.column("rems_certified"))
    for row in connection.execute(sa.select(location.c.id, location.c.accessibility).where(location.c.accessibility.is_not(None))).all():
        found = terms_in(row.accessibility)
        if found:
            connection.execute(location.update().where(location.c.id == row.id).values(accessibility_features=found if connection.dialect.name == "postgresql" else json.dumps(found)))
    certified = sa.select(provider.c.id).where(provider.c.rems_certified == sa.true())
    connection.execute(location.update().where(location.c.provider_id.in_(certified)).values(rems_certified=True))
    op.execute("DELETE FROM search_location")
    op.execute("DELETE FROM listing_document")
    op.add_column("search_location", sa.Column("clinicians", sa.Text(), nullable=False, server_default="[]"))
    op.add_column("search_location", sa.Column("access", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("search_location", sa.Column("rems", sa.Boolean(), nullable=False, server_default=sa.false()))


def _restore_rtree_triggers() -> None:
    # SQLite's batch may make the table again: its triggers go with the old one.
    op.execute("DROP TRIGGER IF EXISTS search_location_rtree_insert")
    op.execute("DROP TRIGGER IF EXISTS search_location_rtree_delete")
    op.execute(
        "CREATE TRIGGER search_location_rtree_insert AFTER INSERT ON search_location WHEN NEW.latitude IS NOT NULL BEGIN "
        "INSERT INTO search_location_rtree VALUES (NEW.location_id, NEW.latitude, NEW.latitude, NEW.longitude, NEW.longitude); END"
    )
    op.execute(
        "CREATE TRIGGER search_location_rtree_delete AFTER DELETE ON search_location BEGIN "
        "DELETE FROM search_location_rtree WHERE id = OLD.location_id; END"
    )


def downgrade() -> None:
    op.execute("DELETE FROM search_location")
    op.execute("DELETE FROM listing_document")
    with op.batch_alter_table("search_location") as batch:
        batch.drop_column("rems")
        batch.drop_column("access")
        batch.drop_column("clinicians")
    if op.get_bind().dialect.name != "postgresql":
        _restore_rtree_triggers()
    with op.batch_alter_table("location") as batch:
        batch.drop_column("rems_certified_on")
        batch.drop_column("rems_certified")
        batch.drop_column("accessibility_features")
    if op.get_bind().dialect.name != "postgresql":
        _restore_location_triggers()


def _restore_location_triggers() -> None:
    # As migration 0001 made them: dropping columns made SQLite's table again, without them.
    for trigger in ("location_rtree_insert", "location_rtree_update", "location_rtree_delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute(
        "CREATE TRIGGER location_rtree_insert AFTER INSERT ON location BEGIN "
        "INSERT INTO location_rtree VALUES (NEW.id, NEW.latitude, NEW.latitude, NEW.longitude, NEW.longitude); END"
    )
    op.execute(
        "CREATE TRIGGER location_rtree_update AFTER UPDATE OF id, latitude, longitude ON location BEGIN "
        "DELETE FROM location_rtree WHERE id = OLD.id; "
        "INSERT INTO location_rtree VALUES (NEW.id, NEW.latitude, NEW.latitude, NEW.longitude, NEW.longitude); END"
    )
    op.execute("CREATE TRIGGER location_rtree_delete AFTER DELETE ON location BEGIN DELETE FROM location_rtree WHERE id = OLD.id; END")

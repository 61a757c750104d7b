"""The two taxonomies a listing is described with: conditions treated and services offered."""

from __future__ import annotations

from sqlalchemy import Index, SmallInteger
from sqlmodel import Field, SQLModel

from directory.columns import JSONValue


class TaxonomyEntryBase(SQLModel):
    """A stable code, a display name, a description and the synonyms people search with."""

    code: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    synonyms: list[str] = Field(default_factory=list, sa_type=JSONValue)
    bit: int | None = Field(default=None, sa_type=SmallInteger)
    """The entry's bit in the read model's masks: given once, when the entry is added, and kept."""
    parent: str | None = Field(default=None, max_length=64)
    """The broader entry (``depression`` for ``postpartum-depression``): a search for it finds this one too."""
    codings: list[dict[str, str]] = Field(default_factory=list, sa_type=JSONValue)
    """The same concept in standard code systems (ICD-10-CM, SNOMED CT): ``system``, ``code``, ``display``."""


#: A bit mask is a 64-bit signed integer: bits 0-62.
MAX_ENTRIES = 63


class Condition(TaxonomyEntryBase, table=True):
    """Something a clinic treats, for example ``ptsd`` or ``treatment-resistant-depression``."""

    __tablename__ = "condition"
    __table_args__ = (Index("uq_condition_bit", "bit", unique=True),)


class Service(TaxonomyEntryBase, table=True):
    """Something a clinic offers, for example ``ketamine-iv`` or ``esketamine-spravato``."""

    __tablename__ = "service"
    __table_args__ = (Index("uq_service_bit", "bit", unique=True),)

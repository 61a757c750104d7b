"""The two taxonomies a listing is described with: conditions treated and services offered."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Index, SmallInteger
from sqlmodel import Field, SQLModel

from directory.columns import JSONValue, empty_dict, empty_list


class TaxonomyEntryBase(SQLModel):
    """A stable code, a display name, a description and the synonyms people search with."""

    code: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    synonyms: list[str] = Field(default_factory=empty_list, sa_type=JSONValue)
    bit: int | None = Field(default=None, sa_type=SmallInteger)
    """The entry's bit in the read model's masks: given once, when the entry is added, and kept."""
    parent: str | None = Field(default=None, max_length=64)
    """The broader entry (``depression`` for ``postpartum-depression``): a search for it finds this one too."""
    codings: list[dict[str, str]] = Field(default_factory=empty_list, sa_type=JSONValue)
    """The same concept in standard code systems (ICD-10-CM, SNOMED CT): ``system``, ``code``, ``display``."""
    translations: dict[str, dict[str, Any]] = Field(default_factory=empty_dict, sa_type=JSONValue)
    """The name, description and synonyms in other languages, by language code: ``{"es": {"name": ...}}``."""


def spoken(name: str, synonyms: list[str] | None, translations: dict[str, dict[str, Any]] | None) -> list[str]:
    """An entry's name and synonyms in every language it has, English first: what searchers may type."""
    words = [name, *(synonyms or [])]
    for language in sorted(translations or {}):
        words += [translations[language].get("name") or "", *translations[language].get("synonyms", [])]  # type: ignore[index]
    return [word for word in words if word]


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

"""The taxonomy entries as the API shows them."""

from __future__ import annotations

from pydantic import BaseModel, Field


class TaxonomyEntry(BaseModel):
    code: str = Field(examples=["treatment-resistant-depression"])
    name: str = Field(examples=["Treatment-resistant depression"])
    description: str | None
    synonyms: list[str] = Field(examples=[["TRD", "treatment resistant depression"]])
    provider_count: int = Field(description="published listings offering or treating it")


class TaxonomyList(BaseModel):
    items: list[TaxonomyEntry]

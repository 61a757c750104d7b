"""The taxonomy entries as the API shows them."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Coding(BaseModel):
    system: str = Field(examples=["http://hl7.org/fhir/sid/icd-10-cm"])
    code: str = Field(examples=["F32.A"])
    display: str | None = Field(default=None, examples=["Depression, unspecified"])


class TaxonomyEntry(BaseModel):
    code: str = Field(examples=["treatment-resistant-depression"])
    name: str = Field(examples=["Treatment-resistant depression"])
    description: str | None
    synonyms: list[str] = Field(examples=[["TRD", "treatment resistant depression"]])
    parent: str | None = Field(default=None, examples=["depression"], description="the broader entry; a search for the parent finds listings of this one too")
    children: list[str] = Field(default_factory=list, examples=[[]], description="the codes of the entries directly below this one")
    codings: list[Coding] = Field(default_factory=list, description="the same concept in standard code systems (ICD-10-CM, SNOMED CT)")
    provider_count: int = Field(description="published listings offering or treating it or any entry below it (each listing once)")


class TaxonomyList(BaseModel):
    items: list[TaxonomyEntry]

"""A client for the NPPES NPI Registry API (version 2.1), over httpx.

Timeouts and 5xx answers are retried with exponential backoff; an answer is validated before use.
After the retries, ``RegistryUnavailable`` says the check could not be made (it is not a failure).
"""

from __future__ import annotations

import asyncio
from typing import Literal

import httpx
from pydantic import BaseModel, Field, ValidationError


class RegistryUnavailable(Exception):
    """The registry did not answer usefully; try again later."""


class Basic(BaseModel):
    first_name: str | None = None
    last_name: str | None = None
    organization_name: str | None = None
    credential: str | None = None
    status: str | None = None


class Taxonomy(BaseModel):
    code: str | None = None
    desc: str | None = None
    primary: bool | None = None
    state: str | None = None
    license: str | None = None


class OtherName(BaseModel):
    """Another name of the record: doing-business-as (type 3), former legal name (4), other (5)."""

    organization_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    type: str | None = None


class Address(BaseModel):
    address_purpose: str | None = None
    """LOCATION (where patients are seen) or MAILING."""
    state: str | None = None
    postal_code: str | None = None
    city: str | None = None


class RegistryRecord(BaseModel):
    number: str
    enumeration_type: Literal["NPI-1", "NPI-2"]
    basic: Basic
    taxonomies: list[Taxonomy] = Field(default_factory=list)
    other_names: list[OtherName] = Field(default_factory=list)
    addresses: list[Address] = Field(default_factory=list)
    practice_locations: list[Address] = Field(default_factory=list, alias="practiceLocations")

    def practice_places(self) -> list[tuple[str, str]]:
        """(state, ZIP code's first five digits) of each place where the registry says patients are seen."""
        places = [a for a in self.addresses if (a.address_purpose or "").upper() == "LOCATION"] + list(self.practice_locations)
        return [((a.state or "").upper(), (a.postal_code or "")[:5]) for a in places if a.state]


class RegistryAnswer(BaseModel):
    result_count: int = 0
    results: list[RegistryRecord] = Field(default_factory=list)


class RegistryClient:
    def __init__(self, base_url: str, *, timeout: float, retries: int, backoff: float = 0.5) -> None:
        self.base_url = base_url
        self.retries = retries
        self.backoff = backoff
        self.client = httpx.AsyncClient(timeout=timeout, headers={"Accept": "application/json"})

    async def lookup(self, npi: str) -> RegistryRecord | None:
        """The registry's record for an NPI, or None when the registry does not know it."""
        last_error = "no attempt"
        for attempt in range(self.retries + 1):
            if attempt:
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = await self.client.get(self.base_url, params={"number": npi, "version": "2.1"})
            except httpx.TimeoutException:
                last_error = "timed out"
                continue
            except httpx.TransportError as error:
                last_error = f"unreachable ({type(error).__name__})"
                continue
            if response.status_code >= 500:
                last_error = f"answered {response.status_code}"
                continue
            if response.status_code != 200:
                raise RegistryUnavailable(f"the registry answered {response.status_code}")
            try:
                answer = RegistryAnswer.model_validate_json(response.content)
            except ValidationError as error:
                raise RegistryUnavailable(f"the registry's answer is not in the expected shape: {error.error_count()} problems") from None
            matching = [record for record in answer.results if record.number == npi]
            return matching[0] if matching else None
        raise RegistryUnavailable(f"the registry {last_error} after {self.retries + 1} attempts")

    async def close(self) -> None:
        await self.client.aclose()

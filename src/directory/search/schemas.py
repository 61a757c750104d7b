"""What GET /v1/search answers."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from directory.listings.schemas import MatchedLocation, ProviderSummary


class PlaceOut(BaseModel):
    """The place the search was made around, as it was understood."""

    kind: Literal["point", "near", "bbox"]
    latitude: float
    longitude: float
    label: str | None = Field(description="what `near` resolved to, e.g. 'New York, NY 10001'")
    precision: str | None = Field(description="address, postcode or city, for a geocoded `near`")
    state: str | None = Field(description="the US state the place is in, used for telehealth")


class SearchHit(BaseModel):
    provider: ProviderSummary
    location: MatchedLocation | None = Field(description="the nearest matching location; null for remote telehealth")
    distance: float | None = Field(description="geodesic (WGS84) distance in `unit`; null when remote or no place")
    remote: bool = Field(description="a telehealth provider serving the searcher's state from beyond the radius")


class FacetCount(BaseModel):
    value: str
    count: int


class Facets(BaseModel):
    """Per filter value, how many listings ticking it would give: every other filter applied, the
    other values of its own filter ORed in (accessibility terms, which all must hold, and
    condition_match=all narrow instead). A broad condition or service counts every entry below it."""

    condition: list[FacetCount]
    service: list[FacetCount]
    credential: list[FacetCount]
    specialty: list[FacetCount] = Field(default_factory=list)
    payment: list[FacetCount] = Field(default_factory=list)
    price: list[FacetCount] = Field(
        default_factory=list, description="price bands: `value` is a max_price (300, 400, 500, 750, 1000) and `count` the listings whose cheapest infusion is at most that"
    )
    telehealth: list[FacetCount]
    accepting_new_patients: list[FacetCount]
    insurance: list[FacetCount]
    language: list[FacetCount]
    accessibility: list[FacetCount] = Field(default_factory=list, description="listings with a location offering the term (and every term ticked)")
    rems_certified: list[FacetCount] = Field(default_factory=list, description="true: listings with a location certified under the Spravato REMS")


class SearchPage(BaseModel):
    place: PlaceOut | None
    radius: float | None = Field(description="in `unit`; null for a bbox or nationwide search")
    unit: Literal["mi", "km"]
    sort: str
    items: list[SearchHit]
    beyond_radius: list[SearchHit] | None = Field(
        default=None,
        description=(
            "with beyond_radius=true: when fewer matches than `limit` lie within the radius, the nearest ones beyond it "
            "(at most 5, within 1,500 km), nearest first with their distances; [] when there are none; null when not asked"
        ),
    )
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last page")
    total: int | None = Field(default=None, description="exact number of matches, with total=true")
    facets: Facets | None = Field(default=None, description="counts among all matches, with facets=true")
    estimated: bool = Field(
        default=False,
        description="true when total and facets are estimates from a sample: only over areas with very many matches (see the API guide)",
    )
    ignored_parameters: list[str] = Field(
        default_factory=list,
        description="query parameters search does not know, accepted and ignored (also in the X-Ignored-Parameters header): check them for typos",
    )

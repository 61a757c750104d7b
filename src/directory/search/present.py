"""A search result, and the two ways it leaves: bytes spliced from the rows' stored JSON on the hot
path, or the response models (for GeoJSON, FHIR and HSDS)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from directory.listings.readmodel import decided
from directory.listings.schemas import MatchedLocation, ProviderSummary
from directory.search.hours import is_open
from directory.search.query import METRES, SearchQuery
from directory.search.schemas import Facets, PlaceOut, SearchHit, SearchPage


@dataclass
class Hit:
    provider_id: uuid.UUID
    location_id: int | None
    distance_m: float | None
    key: list[Any]
    """The sort key, which the next page's cursor continues after."""
    row: Any = None
    """The projection row of the matched location (summary, location, hours, timezone, dates)."""
    listing: Any = None
    """For hits without a row (remote telehealth): the listing's summary and dates from any of its rows."""

    @property
    def source(self) -> Any:
        return self.row if self.row is not None else self.listing


#: A place ranked by distance: (metres, the tie-break a cursor keeps, location id, provider id, row).
Ranked = tuple[float, Any, int, uuid.UUID, Any]


def ranked_hits(ranked: list[Ranked]) -> list[Hit]:
    """Hits for the ranked places a page shows (made only for those: a viewport's walk ranks hundreds)."""
    return [Hit(pid, lid, d, [0, d, tie], row) for d, tie, lid, pid, row in ranked]


@dataclass
class Result:
    query: SearchQuery
    hits: list[Hit]
    next_cursor: str | None
    total: int | None = None
    facets: Facets | None = None
    estimated: bool = False
    ignored: list[str] = field(default_factory=list)
    """Query parameters search does not know (kept out of the search, named in the answer)."""
    beyond: list[Hit] = field(default_factory=list)
    """With ``beyond_radius``: the nearest matches beyond the radius."""

    def _distance(self, hit: Hit) -> float | None:
        return round(hit.distance_m / METRES[self.query.unit], 4) if hit.distance_m is not None else None

    def _remote(self, hit: Hit) -> bool:
        """Found by the state it serves by telehealth, not by a location near the place."""
        return self.query.place is not None and self.query.radius_m is not None and hit.location_id is None

    def _open_now(self, hit: Hit) -> bool | None:
        return is_open(hit.row.hours, hit.row.timezone, self.query.moment)

    def _summary(self, hit: Hit) -> str:
        """The stored summary with ``stale`` and ``unconfirmed`` decided at the search's moment."""
        source, query = hit.source, self.query
        stale = source.verified and (source.verified_at is None or source.verified_at < query.stale_before)
        unconfirmed = source.confirmed_at is None or source.confirmed_at < query.unconfirmed_before
        return decided(source.summary, stale, unconfirmed)

    def _head(self) -> dict[str, Any]:
        query = self.query
        return {
            "place": vars(query.place) if query.place else None,
            "radius": round(query.radius_m / METRES[query.unit], 6) if query.radius_m else None,
            "unit": query.unit,
            "sort": query.sort,
        }

    def _item(self, hit: Hit) -> str:
        location = "null"
        if hit.row is not None and hit.location_id is not None:
            open_now = self._open_now(hit)
            location = hit.row.location[:-1] + ',"open_now":' + ("null" if open_now is None else "true" if open_now else "false") + "}"
        distance = self._distance(hit)  # finite: a float's repr is its JSON
        return (
            '{"provider":' + self._summary(hit) + ',"location":' + location
            + ',"distance":' + ("null" if distance is None else repr(distance)) + ',"remote":' + ("true" if self._remote(hit) else "false") + "}"
        )  # fmt: skip

    def json(self) -> bytes:
        """The page as SearchPage's JSON, spliced from the stored fragments without a model round trip."""
        items = [self._item(hit) for hit in self.hits]
        head = json.dumps(self._head(), separators=(",", ":"))[:-1]
        beyond = "[" + ",".join(self._item(hit) for hit in self.beyond) + "]" if self.query.beyond_radius else "null"
        tail = {
            "beyond_radius": None,
            "next_cursor": self.next_cursor,
            "total": self.total,
            "facets": self.facets.model_dump(mode="json") if self.facets else None,
            "estimated": self.estimated,
            "ignored_parameters": self.ignored,
        }
        rest = json.dumps(tail, separators=(",", ":"))[1:].replace('"beyond_radius":null', '"beyond_radius":' + beyond, 1)
        return (head + ',"items":[' + ",".join(items) + "]," + rest).encode()

    def _hit(self, hit: Hit) -> SearchHit:
        location = None
        if hit.row is not None and hit.location_id is not None:
            location = MatchedLocation.model_validate({**json.loads(hit.row.location), "open_now": self._open_now(hit)})
        return SearchHit(
            provider=ProviderSummary.model_validate_json(self._summary(hit)), location=location, distance=self._distance(hit), remote=self._remote(hit)
        )

    def model(self) -> SearchPage:
        query = self.query
        items = [self._hit(hit) for hit in self.hits]
        head = self._head()
        return SearchPage(
            place=PlaceOut(**head["place"]) if query.place else None,
            radius=head["radius"],
            unit=query.unit,
            sort=query.sort,
            items=items,
            next_cursor=self.next_cursor,
            total=self.total,
            facets=self.facets,
            estimated=self.estimated,
            ignored_parameters=self.ignored,
            beyond_radius=[self._hit(hit) for hit in self.beyond] if query.beyond_radius else None,
        )

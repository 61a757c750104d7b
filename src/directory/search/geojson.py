"""Search results as an RFC 7946 GeoJSON FeatureCollection, for maps."""

from __future__ import annotations

from typing import Any

from directory.search.schemas import SearchPage

GEOJSON = "application/geo+json"


def feature_collection(page: SearchPage) -> dict[str, Any]:
    """The hits as features, then those beyond the radius (``beyond_radius: true`` in their properties)."""
    features = []
    hits = [(hit, False) for hit in page.items] + [(hit, True) for hit in page.beyond_radius or []]
    for hit, beyond in hits:
        location = hit.location
        features.append(
            {
                "type": "Feature",
                "id": f"{hit.provider.id}:{location.id}" if location else str(hit.provider.id),
                # Remote telehealth hits have no place on the map: RFC 7946 allows a null geometry.
                "geometry": {"type": "Point", "coordinates": [location.longitude, location.latitude]} if location else None,
                "properties": {
                    "provider": hit.provider.model_dump(mode="json"),
                    "location": location.model_dump(mode="json") if location else None,
                    "distance": hit.distance,
                    "remote": hit.remote,
                    "beyond_radius": beyond,
                },
            }
        )
    return {
        "type": "FeatureCollection",
        "features": features,
        "properties": {
            "place": page.place.model_dump(mode="json") if page.place else None,
            "radius": page.radius,
            "unit": page.unit,
            "sort": page.sort,
            "next_cursor": page.next_cursor,
            "total": page.total,
            "facets": page.facets.model_dump(mode="json") if page.facets else None,
            "estimated": page.estimated,
            "ignored_parameters": page.ignored_parameters,
        },
    }

"""An online geocoder (Nominatim's API) reached through httpx, plugged into geopy as an adapter."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
from geopy.adapters import AdapterHTTPError, BaseAsyncAdapter
from geopy.exc import GeocoderParseError, GeocoderTimedOut, GeocoderUnavailable
from geopy.geocoders import Nominatim
from geopy.location import Location


class HttpxAdapter(BaseAsyncAdapter):
    """geopy's adapter contract over one shared ``httpx.AsyncClient``."""

    def __init__(self, *, proxies: Any = None, ssl_context: Any = None) -> None:  # noqa: ARG002
        super().__init__(proxies=proxies, ssl_context=ssl_context)
        self.client = httpx.AsyncClient(follow_redirects=False)

    async def get_text(self, url: str, *, timeout: float, headers: dict[str, str]) -> str:
        try:
            response = await self.client.get(url, timeout=timeout, headers=headers)
        except httpx.TimeoutException as error:
            raise GeocoderTimedOut(f"the geocoder did not answer within {timeout}s") from error
        except httpx.TransportError as error:
            raise GeocoderUnavailable(f"the geocoder cannot be reached: {error}") from error
        if response.status_code >= 400:
            raise AdapterHTTPError(
                f"geocoder answered {response.status_code}",
                status_code=response.status_code,
                headers=dict(response.headers),
                text=response.text[:500],
            )
        return response.text

    async def get_json(self, url: str, *, timeout: float, headers: dict[str, str]) -> Any:
        text = await self.get_text(url, timeout=timeout, headers=headers)
        try:
            import json

            return json.loads(text)
        except ValueError as error:
            raise GeocoderParseError("the geocoder's answer is not JSON") from error

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()


def nominatim(base_url: str, *, timeout: float, user_agent: str) -> Nominatim:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"DIRECTORY_GEOCODER_URL must be an http(s) URL, not {base_url!r}")
    return Nominatim(
        domain=parts.netloc + parts.path.rstrip("/"),
        scheme=parts.scheme,
        timeout=timeout,
        user_agent=user_agent,
        adapter_factory=HttpxAdapter,
    )


def precision_of(location: Location) -> str:
    """Nominatim says what it found; map that onto our precision levels."""
    raw = location.raw or {}
    address = raw.get("address") or {}
    kind = raw.get("addresstype") or raw.get("type") or ""
    if address.get("house_number") or kind in ("house", "building", "amenity", "office"):
        return "address"
    if kind == "postcode":
        return "postcode"
    return "city"


async def geocode_online(geocoder: Nominatim, query: str) -> Location | None:
    """Ask a US-only question; geopy's errors pass through as ``GeocoderServiceError`` subclasses."""
    return await geocoder.geocode(query, exactly_one=True, addressdetails=True, country_codes="us")


__all__ = ["HttpxAdapter", "geocode_online", "nominatim", "precision_of"]

"""The directory's own web pages and the embeddable finder: HTML shells and static files.

The pages are clients of the public API like any partner's: they fetch /v1/search, /v1/conditions
and /v1/providers/{slug} from the browser and render them. The one question asked here, through
the same service as the API, is whether a listing page's listing exists: a missing one is a 404
(with the same friendly page), so that search engines and link checkers see it is gone. Every
script, style, map shape and icon is served from /static (vendored with their licences): the pages
make no request to another host, unless an operator sets a map tile server (DIRECTORY_MAP_TILES_URL).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from jinja2 import Environment
from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.static_files import create_static_files_router
from sqlalchemy.ext.asyncio import AsyncConnection

from directory import i18n
from directory.errors import NotFound
from directory.i18n.catalogs import page_templates, script_messages, translations
from directory.listings.queries import merged_survivor
from directory.listings.service import ListingService
from directory.settings import Settings

HERE = Path(__file__).parent
STATIC = HERE / "static"
PAGES = HERE / "pages"


@cache
def _environment(language: str) -> Environment:
    """The pages' templates with the language's gettext (``_``, ``ngettext``; English passes through)."""
    return page_templates(PAGES, language)


def addresses(path: str) -> list[str]:
    """A page's address in every language: ``/claim`` and ``/es/claim`` (``/`` and ``/es``)."""
    return [path, *(f"/{code}{path}".rstrip("/") for code in i18n.LANGUAGES if code != i18n.DEFAULT)]


def language_of(path: str) -> str:
    """The language a page's address is in: ``/es/...`` is Spanish, an address without a prefix English."""
    first = path.strip("/").split("/", 1)[0]
    return first if first in i18n.LANGUAGES and first != i18n.DEFAULT else i18n.DEFAULT


def localized(path: str, language: str) -> str:
    """The same page's address in another language (``/claim`` is ``/es/claim``; ``/`` is ``/es/``)."""
    if language_of(path) != i18n.DEFAULT:
        path = "/" + path.strip("/").split("/", 1)[1] if "/" in path.strip("/") else "/"
    return i18n.prefix(language) + path


def page_policy(settings: Settings) -> str:
    """The Content-Security-Policy of the pages: this origin only, plus the tile server if one is set."""
    tiles = ""
    if settings.map_tiles_url:
        parts = urlsplit(settings.map_tiles_url.replace("{s}", "a"))
        host = parts.netloc.replace("a.", "*.", 1) if "{s}" in settings.map_tiles_url else parts.netloc
        tiles = f" {parts.scheme}://{host}"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data:{tiles}; connect-src 'self'; font-src 'self'; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def _render(
    name: str, settings: Settings, request: Request | None = None, status: int = 200, nav: bool | str = True, **values: str
) -> Response[str]:
    """A page in the language of its address, with its alternates in the others and a switch
    between them. An English page also offers, in the visitor's language, the page in it, when
    the browser prefers a language the directory speaks (without sending them there)."""
    path = request.url.path if request is not None else "/"
    language = language_of(path)  # the portal's preview (no request) is in English, with no alternates
    root = (settings.public_url or (str(request.base_url) if request is not None else "")).rstrip("/")
    query = f"?{request.url.query}" if request is not None and request.url.query else ""
    others = [code for code in i18n.LANGUAGES if code != language]
    preferred = i18n.from_header(request.headers.get("accept-language")) if request is not None else i18n.DEFAULT
    context = {
        "lang": language,
        "prefix": "" if language == i18n.DEFAULT else f"/{language}",
        "nav": nav,
        "alternates": [{"hreflang": code, "href": root + localized(path, code)} for code in i18n.LANGUAGES]
        + [{"hreflang": "x-default", "href": root + localized(path, i18n.DEFAULT)}]
        if request is not None
        else [],
        "switch": [{"hreflang": code, "name": i18n.LANGUAGES[code], "path": localized(path, code) + query} for code in others]
        if request is not None
        else [],
        "suggest": None,
        "script_messages": script_messages(language),
        "map_tiles": settings.map_tiles_url or "",
        "map_attribution": settings.map_tiles_attribution,
        **values,
    }
    if language == i18n.DEFAULT and preferred != language:
        words = translations(preferred).gettext("This page in English")
        context["suggest"] = {"hreflang": preferred, "path": localized(path, preferred) + query, "text": words}
    text = _environment(language).get_template(name).render(context)
    headers = {
        "Content-Security-Policy": page_policy(settings),
        "Cache-Control": "no-cache",
        "Content-Language": language,
        "Vary": "Accept-Language",
    }
    return Response(text, media_type="text/html", headers=headers, status_code=status)


@get(addresses("/"), include_in_schema=False, opt={"web": True})
async def directory_page(request: Request, state: State) -> Response[str]:
    """Find providers near a place: the search page."""
    return _render("index.html", state.settings, request)


@get(addresses("/providers/{slug:str}"), include_in_schema=False, opt={"web": True})
async def listing_page(
    request: Request, slug: FromPath[str], state: State, read_connection: NamedDependency[AsyncConnection], listings: NamedDependency[ListingService]
) -> Response[str]:
    """One listing, whole: fetched from the API by the page itself. An unknown slug answers 404 with
    the page, which shows its not-found state."""
    try:
        await listings.published_document(read_connection, slug)
    except NotFound:
        survivor = await merged_survivor(read_connection, slug)
        if survivor is not None:  # merged into another listing: the old address leads there, in the same language
            return Response(content="", status_code=301, headers={"Location": localized(f"/providers/{survivor[1]}", language_of(request.url.path))})
        return _render("listing.html", state.settings, request, status=404, slug=slug, source="", preview_note="")
    return _render("listing.html", state.settings, request, slug=slug, source="", preview_note="")


def render_listing_shell(settings: Settings, slug: str, source: str, preview: bool) -> Response[str]:
    """The listing page reading its listing from another address: the portal's preview of a listing
    as its owner sees it now (a draft too), shown by the very page and script the public gets."""
    note = "Preview: this is how the listing's public page shows it. Nothing here is published by the preview." if preview else ""
    response = _render("listing.html", settings, slug=slug, source=source, preview_note=note)
    response.headers["Cache-Control"] = "no-store"
    return response


@get(addresses("/claim"), include_in_schema=False, opt={"web": True})
async def claim_page(request: Request, state: State) -> Response[str]:
    """How a clinic's staff take charge of its listing."""
    return _render("claim.html", state.settings, request)


@get(addresses("/how-we-check"), include_in_schema=False, opt={"web": True})
async def checks_page(request: Request, state: State) -> Response[str]:
    """What the verified badge means, in plain words (linked from every badge)."""
    return _render("checks.html", state.settings, request)


@get(addresses("/consultations/withdraw"), include_in_schema=False, opt={"web": True})
async def withdraw_page(request: Request, state: State) -> Response[str]:
    """Where the link of a consultation request's confirmation mail leads: a button that withdraws it."""
    # Every page sends Referrer-Policy: no-referrer (the token is in the address).
    return _render("withdraw.html", state.settings, request, nav=False)


@get(addresses("/embed/demo"), include_in_schema=False, opt={"web": True})
async def embed_demo(request: Request, state: State) -> Response[str]:
    """The finder on a mock partner page, with the snippet to copy."""
    root = state.settings.public_url or str(request.base_url).rstrip("/")
    return _render("demo.html", state.settings, request, root=root, nav="demo")


@get("/embed.js", include_in_schema=False, opt={"web": True})
async def embed_script() -> Response[bytes]:
    """The <provider-finder> element. Any site may load it; it talks to this API with the site's browser key."""
    headers = {"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"}
    return Response(_embed_script(), media_type="text/javascript", headers=headers)


@get("/embed/messages/{name:str}", include_in_schema=False, opt={"web": True})
async def embed_words(name: FromPath[str]) -> Response[bytes]:
    """The finder's words in a language (``es.json``), from the catalog: English needs none, and a
    language the directory does not speak is a 404 (the finder then speaks English)."""
    language = name.removesuffix(".json")
    if not name.endswith(".json") or language not in i18n.LANGUAGES or language == i18n.DEFAULT:
        raise NotFound(f"no words in {language!r}: the finder speaks {', '.join(i18n.LANGUAGES)}")
    headers = {"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*", "Content-Language": language}
    return Response(script_messages(language).encode(), media_type="application/json", headers=headers)


@cache
def _embed_script() -> bytes:
    return (STATIC / "embed.js").read_bytes()


static_files = create_static_files_router(
    path="/static", directories=[STATIC], include_in_schema=False, cache_control=None, name="static", opt={"web": True}
)

ROUTES = [directory_page, listing_page, claim_page, checks_page, withdraw_page, embed_demo, embed_script, embed_words, static_files]

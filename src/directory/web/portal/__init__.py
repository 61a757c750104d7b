"""The clinic portal at /portal/: clinic staff sign up, confirm their address, create, claim and
edit listings, invite colleagues; moderators review; administrators manage partner keys and roles.

Server-rendered pages whose forms work without JavaScript (small scripts add the password meter,
the map pin and the hours editor's overnight hint), calling the same services as the API, under
the same access rules: the portal's caller is the signed-in account, as a bearer token's would be.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import quote

from litestar import Request, Response, Router
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.static_files import create_static_files_router

from directory import i18n
from directory.errors import DirectoryError
from directory.web.portal import account, claims, consultations, listings, moderation, parts
from directory.web.portal.pages import page
from directory.web.portal.visits import CSRF_COOKIE, N_, FormRefused, SignInFirst, Visit, provide_visit, redirect

STATIC = Path(__file__).parent / "static"


def _visit_of(request: Request) -> Visit:
    """The visit the handler was given (exception handlers run synchronously: no new look-up)."""
    visit = request.state.get("visit")
    if isinstance(visit, Visit):
        return visit
    return Visit(request, request.app.state, None, None, request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24))


def _sign_in_first(request: Request, error: SignInFirst) -> Response[Any]:
    visit = _visit_of(request)
    return redirect(visit, f"/portal/sign-in?next={quote(error.back_to, safe='/')}", visit.t("Sign in first (or create an account): you will come back to this page."))


def _problem_page(request: Request, error: Exception) -> Response[Any]:
    """A service's refusal as a page a person can act on, never problem+json."""
    visit = _visit_of(request)
    titles = {401: N_("Please sign in"), 403: N_("Not allowed"), 404: N_("Not found"), 405: N_("Not found"), 409: N_("Not possible now"), 429: N_("Too many requests")}
    other = N_("Something is not right")
    if isinstance(error, DirectoryError):
        status, detail = error.status, error.detail
        title = N_("Form refused") if isinstance(error, FormRefused) else titles.get(status, other)
    elif isinstance(error, HTTPException) and error.status_code not in (400, 404, 405):
        status, detail, title = error.status_code, error.detail, titles.get(error.status_code, other)
    else:  # a malformed id in the address, or a form's address opened as a page: nothing there
        status, detail, title = 404, N_("There is no such page here."), N_("Not found")
    return page(visit, "problem.html", status, title=title, detail=detail)


#: A portal address in any language (``/portal/...``, ``/es/portal/...``), its scripts and styles apart.
_PORTAL_PATH = re.compile(r"^(?:/[a-z]{2})?/portal(?:/(?!static/).*)?$")


def unmatched_page(request: Request, status: int, _detail: str, _errors: Any, _headers: Any) -> Response[Any] | None:
    """A portal address that names no page (a mistyped or outdated link): the portal's own "Not
    found" page in the address's language rather than problem+json. (An alternative for the app's
    error handlers: the portal's routes answer their own errors.)"""
    if status not in (404, 405) or not _PORTAL_PATH.match(request.url.path):
        return None
    return page(_visit_of(request), "problem.html", 404, title=N_("Not found"), detail=N_("There is no such page here."))


ROUTER = Router(
    path="/portal",
    route_handlers=[*account.ROUTES, *listings.ROUTES, *parts.ROUTES, *claims.ROUTES, *moderation.ROUTES, *consultations.ROUTES],
    dependencies={"visit": Provide(provide_visit)},
    exception_handlers={SignInFirst: _sign_in_first, DirectoryError: _problem_page, HTTPException: _problem_page},
    include_in_schema=False,
)

STATIC_ROUTER = create_static_files_router(path="/portal/static", directories=[STATIC], include_in_schema=False, cache_control=None, name="portal-static")

#: The same portal in each other language, under its prefix (``/es/portal/...``): the pages know their
#: language from their address (see ``Visit.language``).
TRANSLATED = [Router(path=f"/{code}", route_handlers=[ROUTER], include_in_schema=False) for code in i18n.LANGUAGES if code != i18n.DEFAULT]

ROUTES = [ROUTER, *TRANSLATED, STATIC_ROUTER]

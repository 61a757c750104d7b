"""One visit to the portal: who is signed in (a server-side session, see ``accounts.sessions``),
the form token that protects every form from other sites (CSRF), and how pages are answered.

The session cookie is HttpOnly and SameSite=Lax (Secure behind https); no token ever reaches the
page's scripts or storage. The form token is an HMAC of a second random cookie with the server's
secret, so it works before signing in (the sign-in form is protected too) and cannot be forged
without that cookie; a form posted without it, with another, or from another origin is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from litestar import Request, Response
from litestar.datastructures import Cookie, State
from litestar.di import NamedDependency
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from directory.accounts.callers import ANONYMOUS, Caller, Role
from directory.accounts.models import Account
from directory.errors import DirectoryError
from directory.i18n import N_, problems  # noqa: F401 (N_ re-exported for the portal's modules)
from directory.i18n.catalogs import translations
from directory.web.routes import language_of, localized

SESSION_COOKIE = "directory_session"
CSRF_COOKIE = "directory_csrf"
NOTICE_COOKIE = "directory_notice"
CSRF_FIELD = "csrf_token"


class SignInFirst(Exception):
    """The page needs a signed-in account: the visitor is sent to sign in, and back afterwards."""

    def __init__(self, back_to: str) -> None:
        self.back_to = back_to


class FormRefused(DirectoryError):
    """A form without its token, with a wrong one, or from another site."""

    status = 403
    title = "Form refused"


@dataclass
class Visit:
    request: Request
    state: State
    account: Account | None
    session_token: str | None
    csrf_seed: str
    cookies: list[Cookie] = field(default_factory=list)
    """Cookies to set on whatever answers this visit."""
    posted: dict[str, Any] | None = None
    """The form of a POST, read (and its token checked) before any handler runs."""

    @property
    def caller(self) -> Caller:
        if self.account is None:
            return ANONYMOUS
        return Caller(Role(self.account.role), self.account.id)

    @property
    def language(self) -> str:
        """The portal's language is in its address: ``/es/portal/...`` is Spanish."""
        return language_of(self.request.url.path)

    @property
    def home(self) -> str:
        """The portal's root in the visit's language (``/portal``, ``/es/portal``): every link starts there."""
        return localized("/portal", self.language)

    def t(self, text: str, **values: Any) -> str:
        """The portal's own words in the visit's language, with ``{name}`` values put in."""
        said = translations(self.language).gettext(text)
        return said.format(**values) if values else said

    def said(self, text: str) -> str:
        """A service's words (a field's reason, a refusal's detail) in the visit's language when the
        catalog has them, else as they are."""
        return problems.translate(text, self.language) or translations(self.language).gettext(text)

    @property
    def csrf(self) -> str:
        return hmac.new(self.state.settings.secret_key.encode(), self.csrf_seed.encode(), hashlib.sha256).hexdigest()

    @property
    def secure(self) -> bool:
        configured = self.state.settings.secure_cookies
        if configured is not None:
            return configured
        public = self.state.settings.public_url or ""
        return public.startswith("https://") or self.request.url.scheme == "https"

    def cookie(self, key: str, value: str, max_age: int | None = None, path: str = "/") -> None:
        self.cookies.append(Cookie(key=key, value=value, max_age=max_age, path=path, httponly=True, secure=self.secure, samesite="lax"))

    def forget_cookie(self, key: str, path: str = "/") -> None:
        self.cookies.append(Cookie(key=key, value="", max_age=0, path=path, httponly=True, secure=self.secure, samesite="lax"))

    def signed_in(self) -> Account:
        """The signed-in account; a visitor who is not is sent to sign in, and back here afterwards."""
        if self.account is None:
            raise SignInFirst(self.here())
        return self.account

    def here(self) -> str:
        """Where to come back after signing in: this page, or for a form the page it was on."""
        url = self.request.url
        if self.request.method == "GET":
            return url.path + (f"?{url.query}" if url.query else "")
        referer = urlsplit(self.request.headers.get("referer", ""))
        if f"{referer.scheme}://{referer.netloc}".lower() == _origin_of(str(self.request.base_url)):
            return safe_next(referer.path + (f"?{referer.query}" if referer.query else ""))
        return f"{self.home}/listings"

    @property
    def moderates(self) -> bool:
        return self.account is not None and self.caller.moderates

    def notice(self, text: str) -> None:
        """A line shown once on the next page (after a redirect)."""
        self.cookie(NOTICE_COOKIE, quote(text[:300]), max_age=60, path=self.home)

    async def form(self) -> dict[str, Any]:
        """The posted form, once its token and origin are checked: one value per name, or a list for repeated names."""
        if self.posted is None:
            self.posted = await self._checked_form()
        return self.posted

    async def _checked_form(self) -> dict[str, Any]:
        origin = self.request.headers.get("origin")
        if origin and origin != "null" and _origin_of(origin) != _origin_of(str(self.request.base_url)):
            raise FormRefused(N_("this form was sent from another site; open the page here and send it again"))
        data = await self.request.form()
        token = data.get(CSRF_FIELD)
        if not isinstance(token, str) or CSRF_COOKIE not in self.request.cookies or not hmac.compare_digest(token, self.csrf):
            raise FormRefused(N_("this form has expired or did not come from this site; reload the page and send it again"))
        values: dict[str, Any] = {}
        for key in data:
            # No database column holds a NUL, and no browser types one: it is dropped.
            found = [value.replace("\x00", "") for value in data.getall(key) if isinstance(value, str)]
            values[key] = found if len(found) > 1 else (found[0] if found else "")
        return values


#: How handlers are given the visit.
ThisVisit = NamedDependency[Visit]


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


async def provide_visit(request: Request, state: State, reader: NamedDependency[AsyncSession]) -> Visit:
    token = request.cookies.get(SESSION_COOKIE)
    account = await state.accounts.sessions.account(reader, token) if token else None
    seed = request.cookies.get(CSRF_COOKIE)
    visit = Visit(request, state, account, token if account else None, seed or secrets.token_urlsafe(24))
    if not seed:
        visit.cookie(CSRF_COOKIE, visit.csrf_seed, path="/")
    if token and account is None:
        visit.forget_cookie(SESSION_COOKIE)  # ended or expired: the browser forgets it too
    request.state.visit = visit  # for the portal's error pages
    if request.method == "POST":
        await visit.form()  # every form of the portal: its token and origin checked before anything else
    return visit


def redirect(visit: Visit, to: str, notice: str | None = None) -> Response[Any]:
    """See other: after every successful form (so a reload does not send it again). A portal
    address goes to the page in the visit's language."""
    if to.startswith("/portal"):
        to = localized(to, visit.language)
    if notice:
        visit.notice(notice)
    response = Redirect(path=to, status_code=303)
    for cookie in visit.cookies:
        response.set_cookie(cookie)
    return response


def safe_next(target: str | None, default: str = "/portal/listings") -> str:
    """Where to go after signing in: only a path of this site (never another host)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target or any(ord(c) < 32 for c in target):
        return default
    return target

"""Answering a visit with a page: the portal's templates (Jinja, autoescaped), one layout for all,
the Content-Security-Policy of the directory's pages, never cached, never framed."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import Response

from directory.errors import DirectoryError, FieldError
from directory.listings.models import ProviderStatus
from directory.web.portal.visits import CSRF_FIELD, NOTICE_COOKIE, Visit
from directory.web.routes import page_policy

TEMPLATES = Path(__file__).parent / "templates"

#: A listing's status in words, for its owners.
STATUS_WORDS = {
    ProviderStatus.draft.value: "Draft: not submitted",
    ProviderStatus.pending_review.value: "Waiting for review",
    ProviderStatus.published.value: "Published",
    ProviderStatus.suspended.value: "Suspended by a moderator",
    ProviderStatus.closed.value: "Closed",
}
VERIFICATION_WORDS = {
    "unverified": "Not checked: the listing has no organization NPI",
    "pending": "Being checked against the national NPI registry",
    "verified": "Verified against the national NPI registry",
    "failed": "Failed the registry check",
}


@cache
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(STATUS_WORDS=STATUS_WORDS, VERIFICATION_WORDS=VERIFICATION_WORDS, CSRF_FIELD=CSRF_FIELD)
    env.filters["when"] = lambda moment: moment.strftime("%b %-d, %Y, %H:%M UTC") if moment else ""
    env.filters["day"] = lambda moment: moment.strftime("%b %-d, %Y") if moment else ""
    env.filters["shown"] = shown
    return env


def shown(value: Any) -> str:
    """A recorded value in words: lists joined, a location as its address and hours, nothing as a dash."""
    if value in (None, "", [], {}):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        if "day" in value and "opens" in value:
            return f"{value['day']} {value['opens']}–{value.get('closes', '')}"
        parts = [shown(value[key]) for key in ("name", "address_line1", "address_line2", "city", "state", "postal_code") if value.get(key)]
        if value.get("hours"):
            parts.append("hours " + shown(value["hours"]))
        return ", ".join(parts) if parts else ", ".join(f"{key}: {shown(item)}" for key, item in value.items() if item not in (None, "", [], {}))
    if isinstance(value, list) and len(value) == 3 and value[2] == "USD":  # a price range as recorded: [min, max, currency]
        return "—" if value[0] is None and value[1] is None else f"${value[0]}–${value[1]}"
    if isinstance(value, list):
        return ", ".join(shown(item) for item in value if item not in (None, "", [], {})) or "—"
    return str(value)


def field_errors(error: DirectoryError) -> dict[str, str]:
    """A service's field errors by field name, for the messages next to each field."""
    found: dict[str, str] = {}
    for item in error.errors or [FieldError("form", error.detail)]:
        found.setdefault(item.field, item.reason)
    return found


def page(visit: Visit, template: str, status: int = 200, **context: Any) -> Response[str]:
    """The page, with the visit's cookies set and the one-time notice shown (and forgotten)."""
    notice = visit.request.cookies.get(NOTICE_COOKIE)
    if notice:
        visit.forget_cookie(NOTICE_COOKIE, path="/portal")
    values = {"visit": visit, "account": visit.account, "csrf": visit.csrf, "notice": unquote(notice) if notice else None, "errors": {}, "values": {}}
    values.update(context)
    html = environment().get_template(template).render(**values)
    # X-Frame-Options comes from the edge, as on every answer.
    headers = {"Content-Security-Policy": page_policy(visit.state.settings), "Cache-Control": "no-store"}
    response = Response(html, status_code=status, media_type="text/html", headers=headers)
    for cookie in visit.cookies:
        response.set_cookie(cookie)
    return response

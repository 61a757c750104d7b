"""What the directory's mails say: one template per kind under ``templates/``, its first line the
subject, the rest the text. Links in mails are absolute: on ``DIRECTORY_PUBLIC_URL`` when it is set,
else on the address the request that caused the mail came to (set once per request, see ``intake``).
"""

from __future__ import annotations

import contextvars
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from directory.i18n import prefix
from directory.i18n.catalogs import translations
from directory.mail.message import Message

TEMPLATES = Path(__file__).parent / "templates"
_BASE_URL: contextvars.ContextVar[str] = contextvars.ContextVar("mail_base_url", default="http://127.0.0.1:8000")


def set_base_url(url: str) -> None:
    """Where the links of mails caused by this request point (the public URL, or the request's own base)."""
    _BASE_URL.set(url.rstrip("/"))


def link(path: str) -> str:
    return _BASE_URL.get() + path


@cache
def _environment(language: str) -> Environment:
    # Plain text: nothing is escaped, and every value must be given. Words in ``_()`` come from the
    # language's catalog; ``portal`` and ``site`` begin the addresses of the pages in that language.
    env = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=False, undefined=StrictUndefined, keep_trailing_newline=True, extensions=["jinja2.ext.i18n"]
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    return env


def notice(kind: str, to: str, language: str = "en", **values: Any) -> Message:
    """The mail of one kind (``templates/<kind>.txt``) to one recipient, in a language."""
    site = prefix(language)
    rendered = _environment(language).get_template(f"{kind}.txt").render(link=link, portal=f"{site}/portal", site=site, **values)
    subject, _, text = rendered.partition("\n")
    return Message(to=to, subject=subject.removeprefix("Subject:").strip(), text=text.lstrip("\n"))

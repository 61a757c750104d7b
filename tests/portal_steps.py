"""What a person does in the portal, as requests: open a page, fill its form (with the form's own
token, as the browser sends it), follow a mailed link. Shared by the portal's tests."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urlsplit

from litestar.testing import AsyncTestClient
from smtp_inbox import Mailbox

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "correct horse battery staple 9"


def csrf(page: str) -> str:
    found = TOKEN.search(page)
    assert found, "the page has no form token"
    return found.group(1)


def path_of(link: str) -> str:
    parts = urlsplit(link)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class Person:
    """One browser: its own cookies, a mailbox to read."""

    def __init__(self, client: AsyncTestClient, mailbox: Mailbox, email: str) -> None:
        self.client, self.mailbox, self.email = client, mailbox, email

    async def open(self, path: str, status: int = 200) -> str:
        response = await self.client.get(path)
        assert response.status_code == status, f"{path}: {response.status_code}\n{response.text[:3000]}"
        return response.text

    async def submit(self, page_path: str, action: str, fields: dict[str, Any], status: int = 303) -> Any:
        """Open the page, then send one of its forms with these fields (and the page's token)."""
        token = csrf(await self.open(page_path))
        response = await self.client.post(action, data={"csrf_token": token, **fields})
        assert response.status_code == status, f"{action}: {response.status_code}\n{response.text[:4000]}"
        return response

    async def mail(self) -> None:
        await self.client.mail_queue.send_due()

    async def follow(self, contains: str) -> str:
        """Send the queued mail, then open the newest link in it that contains ``contains``."""
        await self.mail()
        link = self.mailbox.link(self.email, contains)
        return path_of(link)

    async def sign_up(self, confirm: bool = True) -> None:
        await self.submit("/portal/sign-up", "/portal/sign-up", {"email": self.email, "password": PASSWORD, "display_name": "Dana"})
        if confirm:
            await self.confirm()

    async def confirm(self) -> None:
        link = await self.follow("/portal/verify")
        await self.submit(link, "/portal/verify", {"token": link.split("token=")[1]})

    async def sign_in(self, password: str = PASSWORD, status: int = 303) -> Any:
        return await self.submit("/portal/sign-in", "/portal/sign-in", {"email": self.email, "password": password}, status=status)

    async def new_listing(self, name: str = "Harbor Ketamine Clinic", **location: str) -> str:
        fields = {"listing_name": name, "address_line1": "350 Fifth Avenue", "city": "New York", "state": "NY", "postal_code": "10118",
                  "timezone": "America/New_York", "hours-mon-opens-1": "09:00", "hours-mon-closes-1": "17:00", **location}  # fmt: skip
        response = await self.submit("/portal/listings/new", "/portal/listings/new", fields)
        return response.headers["location"].rsplit("/", 1)[1]


def text_of(page: str) -> str:
    """The page's words, without tags, as a person reads them."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def form_values(page: str, action: str) -> dict[str, str]:
    """The values a form would send as it is shown (text inputs, ticked boxes, chosen options, textareas)."""
    start = page.index(f'action="{action}"')
    form = page[start : page.index("</form>", start)]
    values: dict[str, Any] = {}
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        if not name:
            continue
        kind = re.search(r'type="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if kind and kind.group(1) == "checkbox":
            if " checked" in tag:
                values.setdefault(name.group(1), []).append(html.unescape(value.group(1)) if value else "on")
            continue
        values[name.group(1)] = html.unescape(value.group(1)) if value else ""
    for name, body in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S):
        values[name] = html.unescape(body)
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', options)
        values[name] = html.unescape(chosen.group(1)) if chosen else ""
    return {name: (value[0] if isinstance(value, list) and len(value) == 1 else value) for name, value in values.items()}

"""Where mail goes: an SMTP server, or an outbox folder in the embedded mode."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from directory.mail.message import Message
from directory.settings import Settings

logger = logging.getLogger("directory.mail")

#: The URL schemes DIRECTORY_SMTP_URL takes: plain (upgraded with STARTTLS when the server offers
#: it), STARTTLS required, or TLS from the first byte (SMTPS, port 465).
SCHEMES = {"smtp": (25, False, None), "smtp+starttls": (587, False, True), "smtps": (465, True, False)}


class MailError(Exception):
    """A mail could not be handed over (the server refused it, or could not be reached)."""


class Mailer(Protocol):
    async def send(self, message: Message) -> None: ...


class SmtpMailer:
    """Hands each mail to an SMTP server (aiosmtplib), with the credentials of the URL if any."""

    def __init__(self, url: str, sender: str, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES or not parts.hostname:
            raise ValueError(f"DIRECTORY_SMTP_URL must look like smtp://user:password@host:port (or smtp+starttls://, smtps://), not {parts.scheme or url!r}")
        default_port, self.use_tls, self.start_tls = SCHEMES[parts.scheme]
        self.host, self.port = parts.hostname, parts.port or default_port
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender, self.timeout = sender, timeout

    async def send(self, message: Message) -> None:
        import aiosmtplib

        try:
            await aiosmtplib.send(
                message.as_email(self.sender), hostname=self.host, port=self.port, username=self.username, password=self.password,
                use_tls=self.use_tls, start_tls=self.start_tls, timeout=self.timeout,
            )  # fmt: skip
        except (aiosmtplib.SMTPException, OSError) as error:
            raise MailError(f"the SMTP server at {self.host}:{self.port} did not take mail {message.id}: {type(error).__name__}") from error
        logger.info("mail %s (%s) handed to %s:%s", message.id, message.subject, self.host, self.port)


_LINK = re.compile(r"https?://\S+")


class OutboxMailer:
    """Writes each mail as an .eml file into a folder: the embedded mode's mail, to open by hand.

    The first link of the mail is logged too, so that a person trying the portal locally can
    follow a verification or reset link from the server's output."""

    def __init__(self, folder: Path, sender: str) -> None:
        self.folder, self.sender = folder, sender

    async def send(self, message: Message) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self.folder / f"{message.id}.eml"
            temporary = path.with_suffix(".part")
            temporary.write_bytes(message.as_email(self.sender).as_bytes())
            temporary.replace(path)  # a reader never sees half a mail
        except OSError as error:
            raise MailError(f"could not write mail {message.id} into {self.folder}: {error.strerror}") from error
        link = _LINK.search(message.text)
        logger.info("mail %s (%s) written to %s%s", message.id, message.subject, path, f"; its link: {link.group(0)}" if link else "")


def mailer_for(settings: Settings) -> Mailer:
    """SMTP when DIRECTORY_SMTP_URL is set, else the outbox folder."""
    if settings.smtp_url:
        return SmtpMailer(settings.smtp_url, settings.mail_from, settings.smtp_timeout)
    return OutboxMailer(Path(settings.mail_outbox), settings.mail_from)

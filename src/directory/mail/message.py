"""A mail as the directory writes it: plain text always, HTML beside it when given."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    text: str
    html: str | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    """Ours, for logs and retries: the recipient never appears in a log line."""

    def as_email(self, sender: str) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = sender
        mail["To"] = self.to
        mail["Subject"] = self.subject
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = make_msgid(idstring=self.id, domain=sender.rpartition("@")[2].strip("> ") or None)
        mail.set_content(self.text)
        if self.html is not None:
            mail.add_alternative(self.html, subtype="html")
        return mail

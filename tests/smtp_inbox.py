"""A local SMTP server of a test's own (aiosmtpd on a free port) that keeps every mail it is given,
and the links in them: the tests read the directory's mail the way a person would."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import time
from email.message import EmailMessage

from aiosmtpd.controller import Controller

LINK = re.compile(r"https?://\S+")


class Mailbox:
    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.controller = Controller(self, hostname="127.0.0.1", port=port)
        self.url = f"smtp://127.0.0.1:{port}"

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's name
        self.mails.append(email.message_from_bytes(envelope.content, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 OK"

    def start(self) -> Mailbox:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def to(self, address: str) -> list[EmailMessage]:
        return [mail for mail in self.mails if address.lower() in str(mail["To"]).lower()]

    @staticmethod
    def text(mail: EmailMessage) -> str:
        body = mail.get_body(preferencelist=("plain",))
        return body.get_content() if body is not None else ""

    def link(self, address: str, contains: str) -> str:
        """The newest link containing ``contains`` in a mail to ``address``."""
        for mail in reversed(self.to(address)):
            for found in LINK.findall(self.text(mail)):
                if contains in found:
                    return found
        raise AssertionError(f"no mail to {address} holds a link with {contains!r}; subjects: {[str(m['Subject']) for m in self.mails]}")

    def wait_for(self, address: str, count: int = 1, seconds: float = 20.0) -> list[EmailMessage]:
        """For a server in another process: wait until ``count`` mails reached ``address``."""
        deadline = time.monotonic() + seconds
        while len(self.to(address)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{count} mail(s) to {address} did not arrive; subjects so far: {[str(m['Subject']) for m in self.mails]}")
            time.sleep(0.05)
        return self.to(address)

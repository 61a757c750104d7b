"""The directory's one mailer: every mail (verification links, password resets, invitations,
decisions) goes through ``Mailer.send``.

Two transports stand behind it, chosen once from the settings: SMTP through aiosmtplib when
``DIRECTORY_SMTP_URL`` is set (production, and the tests' own local SMTP server), and otherwise an
outbox folder (``DIRECTORY_MAIL_OUTBOX``) where each mail is written as an ``.eml`` file, so that a
person trying the directory locally can open it. Log lines name the mail by its id and subject,
never by its recipient.
"""

from __future__ import annotations

from directory.mail.message import Message
from directory.mail.transports import Mailer, MailError, OutboxMailer, SmtpMailer, mailer_for

__all__ = ["MailError", "Mailer", "Message", "OutboxMailer", "SmtpMailer", "mailer_for"]

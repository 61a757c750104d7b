"""The directory's one mailer: every mail (verification links, password resets, invitations,
decisions) goes through ``Mailer.send``.

Two transports stand behind it, chosen once from the settings: SMTP through aiosmtplib when
``DIRECTORY_SMTP_URL`` is set (production, and the tests' own local SMTP server), and otherwise an
outbox folder (``DIRECTORY_MAIL_OUTBOX``) where each mail is written as an ``.eml`` file, so that a
person trying the directory locally can open it. Log lines name the mail by its id and subject,
never by its recipient.

Mail is queued in the transaction of the change that causes it (``enqueue``) and sent by the
queue's worker (``MailQueue``), retried until the server takes it; what it says comes from the
templates of ``notices``.
"""

from __future__ import annotations

from directory.mail.message import Message
from directory.mail.notices import link, notice, set_base_url
from directory.mail.queue import MailQueue, QueuedMail, enqueue
from directory.mail.transports import Mailer, MailError, OutboxMailer, SmtpMailer, mailer_for

__all__ = [
    "MailError", "MailQueue", "Mailer", "Message", "OutboxMailer", "QueuedMail", "SmtpMailer",
    "enqueue", "link", "mailer_for", "notice", "set_base_url",
]

"""The mailer: SMTP to a local server of the test's own (aiosmtpd), or .eml files in an outbox folder."""

from __future__ import annotations

import asyncio
import email
import logging
import socket

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from directory.mail import MailError, Message, OutboxMailer, SmtpMailer, mailer_for
from directory.mail.queue import MailQueue
from directory.settings import Settings


class Inbox:
    """An SMTP server's handler that keeps every mail it is given."""

    def __init__(self) -> None:
        self.mails: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's name
        self.mails.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()

    def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
        return AuthResult(success=auth_data.login == b"mailer" and auth_data.password == b"s3cret pass")

    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port(), authenticator=authenticate, auth_require_tls=False)
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


MESSAGE = Message(
    to="Owner <owner@clinic.example>",
    subject="Confirm your email address",
    text="Follow this link to confirm it: http://127.0.0.1:8000/portal/verify?token=abc123\n",
    html="<p><a href='http://127.0.0.1:8000/portal/verify?token=abc123'>Confirm</a></p>",
)


async def test_a_mail_reaches_a_real_smtp_server_with_its_text_and_html(smtp_server, caplog):
    controller, inbox = smtp_server
    mailer = SmtpMailer(f"smtp://mailer:s3cret%20pass@127.0.0.1:{controller.port}", "Directory <no-reply@directory.example>")
    with caplog.at_level(logging.INFO, logger="directory.mail"):
        await mailer.send(MESSAGE)
    [(sender, recipients, content)] = inbox.mails
    assert sender == "no-reply@directory.example" and recipients == ["owner@clinic.example"]
    received = email.message_from_bytes(content)
    assert received["Subject"] == "Confirm your email address" and received["Message-ID"]
    kinds = {part.get_content_type(): part.get_payload(decode=True).decode() for part in received.walk() if not part.is_multipart()}
    assert "token=abc123" in kinds["text/plain"] and "<a href=" in kinds["text/html"]
    # Ids in our logs, never the recipient (the test's own SMTP server logs the envelope it receives
    # when an earlier test left the root logger at INFO: its records are not ours).
    ours = "\n".join(record.getMessage() for record in caplog.records if record.name.startswith("directory"))
    assert MESSAGE.id in ours and "owner@clinic.example" not in ours


async def test_wrong_credentials_or_no_server_is_a_mail_error_naming_the_server_not_the_recipient(smtp_server):
    controller, _ = smtp_server
    with pytest.raises(MailError) as refused:
        await SmtpMailer(f"smtp://mailer:wrong@127.0.0.1:{controller.port}", "no-reply@directory.example").send(MESSAGE)
    assert "owner@clinic.example" not in str(refused.value) and MESSAGE.id in str(refused.value)
    with pytest.raises(MailError, match=f"127.0.0.1:{(port := _free_port())}"):
        await SmtpMailer(f"smtp://127.0.0.1:{port}", "no-reply@directory.example", timeout=5).send(MESSAGE)


def test_smtp_urls_say_how_to_connect_and_a_bad_one_names_the_setting():
    plain = SmtpMailer("smtp://mail.example", "a@b.example")
    assert (plain.host, plain.port, plain.use_tls, plain.start_tls, plain.username) == ("mail.example", 25, False, None, None)
    starttls = SmtpMailer("smtp+starttls://u:p%40ss@mail.example", "a@b.example")
    assert (starttls.port, starttls.start_tls, starttls.password) == (587, True, "p@ss")
    assert (SmtpMailer("smtps://mail.example", "a@b.example").port, SmtpMailer("smtps://mail.example", "a@b.example").use_tls) == (465, True)
    for bad in ("mail.example", "http://mail.example", "smtp://"):
        with pytest.raises(ValueError, match="DIRECTORY_SMTP_URL"):
            SmtpMailer(bad, "a@b.example")


async def test_without_smtp_each_mail_is_an_eml_file_in_the_outbox_and_its_link_is_logged(tmp_path, caplog):
    mailer = mailer_for(Settings(mail_outbox=str(tmp_path / "outbox")))
    assert isinstance(mailer, OutboxMailer)
    with caplog.at_level(logging.INFO, logger="directory.mail"):
        await mailer.send(MESSAGE)
    [written] = list((tmp_path / "outbox").iterdir())
    assert written.name == f"{MESSAGE.id}.eml"
    mail = email.message_from_bytes(written.read_bytes())
    assert mail["To"] == "Owner <owner@clinic.example>" and mail["Subject"] == MESSAGE.subject
    assert "its link: http://127.0.0.1:8000/portal/verify?token=abc123" in caplog.text
    assert "owner@clinic.example" not in caplog.text


async def test_an_outbox_that_cannot_be_written_is_a_mail_error(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    with pytest.raises(MailError, match=MESSAGE.id):
        await OutboxMailer(blocked / "outbox", "a@b.example").send(MESSAGE)


def test_the_app_chooses_smtp_when_a_url_is_set():
    assert isinstance(mailer_for(Settings(smtp_url="smtp://127.0.0.1:2525")), SmtpMailer)


async def test_the_mail_worker_stops_when_cancelled_in_the_turn_it_is_nudged(tmp_path):
    """At shutdown the worker is cancelled; a mail queued in that same loop turn must not keep it
    alive (under Python 3.11, ``wait_for`` dropped such a cancellation and the app never stopped)."""
    queue = MailQueue(OutboxMailer(tmp_path / "outbox", "no-reply@directory.test"), None)  # type: ignore[arg-type]

    async def nothing_due() -> int:
        return 0

    queue.send_due = nothing_due  # type: ignore[method-assign]
    for steps in range(8):
        worker = asyncio.create_task(queue.work(60))
        for _ in range(3):
            await asyncio.sleep(0)  # asleep now, for a nudge or the interval
        queue.nudge()
        for _ in range(steps):
            await asyncio.sleep(0)
        worker.cancel()
        done, _ = await asyncio.wait({worker}, timeout=2)
        assert worker in done and worker.cancelled(), f"cancelled {steps} steps after the nudge, the worker went on"

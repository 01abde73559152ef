"""Helpers of the subscription tests: the sign-up form as a browser sends it, links read
out of mail, and a local SMTP server that keeps what it receives."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
import time
from urllib.parse import urlsplit

from aiosmtpd.controller import Controller
from django.core import signing
from django.test import Client

from comments import services as guard
from tests.conftest import run_commit_hooks

LINK = re.compile(r"https?://[^\s<>\"]+")


def old_stamp(seconds: int = 30) -> str:
    """The stamp of a form served ``seconds`` ago (a person takes a while to type)."""
    return signing.dumps(int(time.time()) - seconds, salt=guard._STAMP_SALT)


def sign_up(client: Client | None = None, *, email_address="reader@example.com", **fields):
    """Load the sign-up page, then send its form as a browser would (CSRF token and all)."""
    client = client or Client(enforce_csrf_checks=True)
    page = client.get("/subscribe/")
    assert page.status_code == 200
    data = {"email": email_address, "scope": "all", "stamp": old_stamp(), "website": ""}
    data.update(fields)
    token = client.cookies["csrftoken"].value if "csrftoken" in client.cookies else ""
    response = client.post("/subscribe/", data, HTTP_X_CSRFTOKEN=token)
    run_commit_hooks()  # the request's work commits: its mail goes out
    return response


def links_in(text: str) -> list[str]:
    return LINK.findall(text)


def path_of(url: str) -> str:
    return urlsplit(url).path


def link_to(text: str, part: str) -> str:
    """The path of the first link in ``text`` whose address contains ``part``."""
    for url in links_in(text):
        if part in url:
            return path_of(url)
    raise AssertionError(f"no link with {part!r} in:\n{text}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """aiosmtpd's handler: keeps every message it accepts, parsed. ``refuse`` holds
    addresses answered with a permanent 550 at RCPT TO."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.refuse: set[str] = set()
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.messages.append((rcpt.lower(), message))
        return "250 Message accepted for delivery"

    def recipients(self) -> list[str]:
        with self.lock:
            return [rcpt for rcpt, _message in self.messages]

    def to(self, address: str) -> list:
        with self.lock:
            return [message for rcpt, message in self.messages if rcpt == address]


class SMTPServer:
    """A local SMTP server on 127.0.0.1 (aiosmtpd in a thread)."""

    def __init__(self):
        self.inbox = Inbox()
        self.port = free_port()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller._thread is not None:
            self.controller.stop()


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()

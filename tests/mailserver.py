"""A real SMTP server (aiosmtpd) on a free local port that keeps what it accepts, can refuse for a
while (451) after some messages, and can be stopped and started again, as a mail relay goes down."""
from __future__ import annotations

import email
import socket
import threading
from email.message import EmailMessage
from email.policy import default as default_policy


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MailServer:
    def __init__(self, parse: bool = True):
        self.port = free_port()
        self.parse = parse
        self.messages: list[EmailMessage] = []
        self.accepted = 0
        self.accept_only: int | None = None  # after this many, answer 451 (try again later)
        self.controller = None
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        with self.lock:
            if self.accept_only is not None and self.accepted >= self.accept_only:
                return "451 4.3.0 Mail server busy, try again later"
            self.accepted += 1
            if self.parse:
                self.messages.append(email.message_from_bytes(envelope.content, policy=default_policy))
        return "250 2.0.0 OK"

    def start(self) -> "MailServer":
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def settings(self) -> dict:
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": self.port, "SMTP_TLS": "none", "SMTP_TIMEOUT": 10,
                "MAIL_FROM": "Kakehashi <no-reply@kakehashi.test>"}

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in m["To"]]

"""A real SMTP server for tests (aiosmtpd) that can be stopped and started again."""

from __future__ import annotations

import asyncio
import email
import email.policy
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from .waiting import eventually


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        # A folded header unfolds with the space after "Subject:" kept; clients trim it.
        return str(self.message["Subject"]).strip()

    @property
    def body(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None
        return str(part.get_content())


class SmtpCatcher:
    """Collects every mail it is sent; `stop()`/`start()` simulate an outage on the same port."""

    def __init__(self, port: int | None = None) -> None:
        from koppel_sandbox_kit import free_port

        self.port = port or free_port()
        self.received: list[Received] = []
        self._controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    async def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        await asyncio.to_thread(self._controller.start)

    async def stop(self) -> None:
        if self._controller is not None:
            await asyncio.to_thread(self._controller.stop)
            self._controller = None

    async def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        async def enough() -> bool:
            return len(self.received) >= count

        await eventually(enough, timeout=timeout)
        return list(self.received)

    async def settled(self, seconds: float = 2.0) -> list[Received]:
        """Everything received after waiting a while longer: a late duplicate would show."""
        await asyncio.sleep(seconds)
        return list(self.received)

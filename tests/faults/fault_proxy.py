"""TCP proxies between the services and the sandboxes, for the two faults a sandbox's own
fault API cannot make: a slow answer that still arrives, and a dropped connection.

- `slow_seconds`: the first bytes of every answer are held back that long (the request
  reached the sandbox and was handled: only the answer is late);
- `drop_share`: that share of the answers never arrives: the request was handled, then
  the connection is reset (RST) instead of the answer being passed on — the client cannot
  tell whether its create happened, the hardest case for "exactly once".

The proxies run on an event loop of their own in a thread, so the run's own work (placing
orders, following topics) does not delay the traffic they carry. Modes are plain
attributes, set from the run's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
import threading
from dataclasses import dataclass, field

from koppel_sandbox_kit import free_port

CHUNK = 65536


@dataclass
class FaultProxy:
    name: str
    upstream_port: int
    seed: int
    port: int = field(default_factory=free_port)
    slow_seconds: float = 0.0
    drop_share: float = 0.0
    dropped: int = 0
    delayed: int = 0
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def clear(self) -> None:
        self.slow_seconds = 0.0
        self.drop_share = 0.0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            _reset(writer)
            return
        asked = asyncio.Event()  # a request went up and its answer has not started yet

        async def requests() -> None:
            while data := await reader.read(CHUNK):
                asked.set()
                up_writer.write(data)
                await up_writer.drain()

        async def answers() -> None:
            while data := await up_reader.read(CHUNK):
                if asked.is_set():
                    asked.clear()
                    if self.slow_seconds > 0:
                        self.delayed += 1
                        await asyncio.sleep(self.slow_seconds)
                    if self.drop_share > 0 and self._rng.random() < self.drop_share:
                        self.dropped += 1
                        _reset(writer)
                        return
                writer.write(data)
                await writer.drain()

        tasks = [asyncio.create_task(requests()), asyncio.create_task(answers())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        except Exception:  # a reset peer: both sides are closed below
            pass
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for side in (writer, up_writer):
                with contextlib.suppress(Exception):
                    side.close()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST (SO_LINGER 0): the peer sees a reset connection, not a clean end."""
    sock = writer.get_extra_info("socket")
    with contextlib.suppress(OSError):
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class ProxyThread:
    """Every proxy of the run, served by one event loop in a daemon thread."""

    def __init__(self, proxies: list[FaultProxy]) -> None:
        self.proxies = {p.name: p for p in proxies}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._servers: list[asyncio.Server] = []

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(timeout=10)

    async def _listen(self) -> None:
        for proxy in self.proxies.values():
            server = await asyncio.start_server(proxy.handle, "127.0.0.1", proxy.port)
            self._servers.append(server)

    def __getitem__(self, name: str) -> FaultProxy:
        return self.proxies[name]

    def stop(self) -> None:
        async def close() -> None:
            for server in self._servers:
                server.close()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

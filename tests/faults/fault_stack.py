"""The run's own Kafka broker and MongoDB-compatible server (koppel_localstack on free ports,
data under the run's folder), so a broker or database restart never touches the shared
instances other people's tests use.

`restart_kafka` / `restart_ferretdb` stop one server (SIGTERM, as an orchestrator's
rolling restart does), keep it down for the outage, and start it again through
`koppel_localstack.start`, which starts only what is missing and returns once it
answers a real round trip.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from koppel_localstack import Endpoints, StackConfig
from koppel_localstack import start as start_stack
from koppel_localstack import stop as stop_stack
from koppel_localstack.process import running_pid, send_term, terminate
from koppel_localstack.stack import parts
from koppel_sandbox_kit import free_port


@dataclass
class OwnStack:
    config: StackConfig
    endpoints: Endpoints | None = None

    @classmethod
    def in_folder(cls, folder: Path) -> OwnStack:
        ports = {free_port() for _ in range(3)}
        while len(ports) < 3:  # free_port may hand out the same port twice
            ports.add(free_port())
        kafka, controller, mongo = sorted(ports)
        return cls(
            StackConfig(
                kafka_port=kafka,
                kafka_controller_port=controller,
                mongo_port=mongo,
                data_dir=folder / "stack" / "data",
                run_dir=folder / "stack" / "run",
                # One broker for a run of minutes: the default 1 GiB heap is not needed.
                kafka_heap=("-Xms256m", "-Xmx512m"),
            )
        )

    def start(self) -> Endpoints:
        self.endpoints = start_stack(self.config, progress=lambda _: None)
        return self.endpoints

    def _pid(self, key: str) -> int | None:
        part = next(p for p in parts(self.config) if p.key == key)
        return running_pid(part.pid_file, part.marker)

    def _stop_part(self, key: str) -> None:
        pid = self._pid(key)
        if pid is not None:
            send_term(pid)
            terminate(pid, self.config.stop_timeout)

    async def restart(self, key: str, down_seconds: float) -> tuple[float, float]:
        """Stop `key` ("kafka" or "ferretdb"), keep it down, start it again. Returns
        (monotonic time it was down from, monotonic time it answered again)."""
        await asyncio.to_thread(self._stop_part, key)
        down_at = time.monotonic()
        await asyncio.sleep(down_seconds)
        await asyncio.to_thread(self.start)
        return down_at, time.monotonic()

    def stop(self, *, keep_data: bool) -> None:
        stop_stack(self.config)
        if not keep_data:
            shutil.rmtree(self.config.data_dir, ignore_errors=True)

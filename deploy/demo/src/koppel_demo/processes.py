"""Run Koppel's parts as separate processes — the way they run in production —
for the local demo and the end-to-end test.

Each process gets its environment, a log file, and a readiness URL that is
polled before the next part starts; stopping sends SIGTERM (clean shutdown,
offsets committed) and SIGKILL only after a grace period.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx


class StartFailed(RuntimeError):
    pass


@dataclass
class ManagedProcess:
    name: str
    args: list[str]
    env: dict[str, str]
    log_path: Path
    ready_url: str | None = None
    ready_port: int | None = None  # for non-HTTP parts (SMTP): a TCP connect is enough
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.args,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in the terminal reaches the runner, not every child
        )
        log.close()

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise StartFailed(
                    f"{self.name} exited with {self.process.returncode}:\n{self.tail()}"
                )
            if self._ready():
                return
            if time.monotonic() > deadline:
                raise StartFailed(f"{self.name} not ready after {timeout:.0f}s:\n{self.tail()}")
            time.sleep(0.2)

    def _ready(self) -> bool:
        if self.ready_url is not None:
            return _answers(self.ready_url)
        if self.ready_port is not None:
            return _listens(self.ready_port)
        return True

    def stop(self, grace: float = 20.0) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def kill(self) -> None:
        """SIGKILL: a crash, for tests that prove nothing is lost or booked twice."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code < 300
    except httpx.HTTPError:
        return False


def _listens(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def service_env(prefix: str, values: Mapping[str, object]) -> dict[str, str]:
    """`{"http_port": 8201}` -> `{"KOPPEL_LEDGER_OCTOPUS_HTTP_PORT": "8201"}`."""
    return {f"{prefix}{key.upper()}": str(value) for key, value in values.items()}


class ProcessGroup:
    """Processes started in order and stopped in reverse order."""

    def __init__(self) -> None:
        self.processes: dict[str, ManagedProcess] = {}

    def start(self, process: ManagedProcess, timeout: float = 60.0) -> ManagedProcess:
        self.processes[process.name] = process
        process.start()
        process.wait_ready(timeout)
        return process

    def __getitem__(self, name: str) -> ManagedProcess:
        return self.processes[name]

    def stop_all(self) -> dict[str, int | None]:
        codes: dict[str, int | None] = {}
        for process in reversed(list(self.processes.values())):
            try:
                codes[process.name] = process.stop()
            except Exception:  # one process refusing to stop must not leave the rest running
                process.kill()
                codes[process.name] = None
        return codes

"""The faults, planned from the seed and injected one at a time.

- `kill` (each service): SIGKILL, down `hold` s, started again; cleared once it answers
  /readyz;
- `broker` / `database` (the run's own Kafka / FerretDB): SIGTERM, down `hold` s, started
  again; cleared once it answers a round trip;
- `5xx`, `429`, `timeout` (each sandbox a service calls): its fault API
  (`/_control/faults`) fails every request for `hold` s; cleared when the rule is deleted;
- `slow`, `drop` (the same sandboxes): the run's TCP proxy in front of the sandbox delays or
  drops answers for `hold` s (fault_proxy.py);
- `duplicate` (each CCV shop): `redeliver` of webhook deliveries already made;
- `replay` (each ledger): stopped, its group on `shop.orders.v1` reset with `koppel replay
  reset-offsets` to a moment in the middle of the run so far, started again.

`plan_faults` orders them so the first ones cover every kind (each kind's targets
shuffled, then taken round-robin over the kinds in a shuffled order): a short run still
meets every kind.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fault_proxy import ProxyThread
from fault_stack import OwnStack
from koppel_contracts import SHOP_ORDERS
from koppel_demo.processes import ProcessGroup
from koppel_demo.system import SystemConfig
from koppel_sandbox_ccvshop import CcvShopControl

KINDS = (
    "kill",
    "broker",
    "database",
    "5xx",
    "429",
    "timeout",
    "slow",
    "drop",
    "duplicate",
    "replay",
)
EVERY_REQUEST = 10**9  # a kit fault rule's `times`: until it is deleted


@dataclass
class Fault:
    kind: str
    target: str
    gap: float  # seconds before it is injected (after the previous one recovered)
    hold: float  # seconds it lasts
    param: float = 0.0  # 429: Retry-After s; slow: delay s; drop: share; duplicate: count;
    # replay: where in the run so far the group is reset to (0 = its start, 1 = now)
    injected_at: float | None = None  # monotonic
    cleared_at: float | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.kind} {self.target}"

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def plan_faults(
    kinds: list[str], targets: dict[str, list[str]], rng: random.Random, limit: int | None
) -> list[Fault]:
    queues = {}
    for kind in kinds:
        found = list(targets.get(kind, []))
        rng.shuffle(found)
        if found:
            queues[kind] = found
    order = list(queues)
    rng.shuffle(order)
    planned: list[Fault] = []
    while any(queues.values()):
        for kind in order:
            if queues[kind]:
                planned.append(_fault(kind, queues[kind].pop(), rng))
    return planned[:limit] if limit is not None else planned


def _fault(kind: str, target: str, rng: random.Random) -> Fault:
    gap = round(rng.uniform(3, 10), 1)
    hold = round(rng.uniform(15, 30), 1)
    param = 0.0
    if kind == "kill":
        hold = round(rng.uniform(1, 5), 1)
    elif kind == "broker":
        hold = round(rng.uniform(20, 40), 1)
    elif kind == "database":
        hold = round(rng.uniform(10, 25), 1)
    elif kind == "429":
        param = float(rng.choice([5, 20, 75]))
    elif kind == "slow":
        param = round(rng.uniform(2, 6), 1)
    elif kind == "drop":
        param = 0.5
    elif kind == "duplicate":
        hold, param = 0.0, float(rng.randint(10, 30))
    elif kind == "replay":
        hold, param = 0.0, round(rng.uniform(0.3, 0.7), 2)
    return Fault(kind, target, gap, hold, param)


class Injector:
    def __init__(
        self,
        config: SystemConfig,
        group: ProcessGroup,
        stack: OwnStack,
        proxies: ProxyThread,
        sandbox_ports: dict[str, int],
        placed_per_shop: dict[str, int],
        rng: random.Random,
        run_started_wall: datetime,
    ) -> None:
        self.config = config
        self.group = group
        self.stack = stack
        self.proxies = proxies
        self.sandbox_ports = sandbox_ports  # sandbox process -> its real port
        self.placed_per_shop = placed_per_shop  # CCV sandbox -> orders placed so far
        self.rng = rng
        self.run_started_wall = run_started_wall

    async def inject(self, fault: Fault) -> None:
        """Inject, hold, clear; `injected_at` / `cleared_at` recorded."""
        fault.injected_at = time.monotonic()
        action = {
            "kill": self._kill,
            "broker": self._broker,
            "database": self._database,
            "5xx": self._sandbox_rule,
            "429": self._sandbox_rule,
            "timeout": self._sandbox_rule,
            "slow": self._proxy,
            "drop": self._proxy,
            "duplicate": self._duplicate,
            "replay": self._replay,
        }[fault.kind]
        await action(fault)
        if fault.cleared_at is None:
            fault.cleared_at = time.monotonic()

    async def _kill(self, fault: Fault) -> None:
        process = self.group[fault.target]
        await asyncio.to_thread(process.kill)
        await asyncio.sleep(fault.hold)
        await asyncio.to_thread(self._restart, fault.target)

    def _restart(self, name: str) -> None:
        process = self.group[name]
        process.start()
        process.wait_ready(120)

    async def _broker(self, fault: Fault) -> None:
        _, answered = await self.stack.restart("kafka", fault.hold)
        fault.cleared_at = answered

    async def _database(self, fault: Fault) -> None:
        _, answered = await self.stack.restart("ferretdb", fault.hold)
        fault.cleared_at = answered

    def _control(self, sandbox: str) -> str:
        return f"{self.config.url(self.sandbox_ports[sandbox])}/_control/faults"

    async def _sandbox_rule(self, fault: Fault) -> None:
        rule: dict[str, Any] = {"times": EVERY_REQUEST}
        if fault.kind == "5xx":
            rule["status"] = self.rng.choice([500, 502, 503])
            fault.extra["status"] = rule["status"]
        elif fault.kind == "429":
            rule["status"] = 429
            rule["headers"] = {"Retry-After": str(int(fault.param))}
        else:
            rule["timeout"] = True
        async with httpx.AsyncClient(timeout=30) as http:
            (await http.post(self._control(fault.target), json=rule)).raise_for_status()
            await asyncio.sleep(fault.hold)
            answer = await http.get(self._control(fault.target))
            (await http.delete(self._control(fault.target))).raise_for_status()
        fault.extra["requests_failed"] = answer.json().get("injected")

    async def _proxy(self, fault: Fault) -> None:
        proxy = self.proxies[fault.target]
        dropped, delayed = proxy.dropped, proxy.delayed
        if fault.kind == "slow":
            proxy.slow_seconds = fault.param
        else:
            proxy.drop_share = fault.param
        await asyncio.sleep(fault.hold)
        proxy.clear()
        fault.extra["answers_dropped"] = proxy.dropped - dropped
        fault.extra["answers_delayed"] = proxy.delayed - delayed

    async def _duplicate(self, fault: Fault) -> None:
        """Deliveries already made, sent again byte for byte (what a shop's retry does):
        each order placed so far had at least one, numbered from 1."""
        known = self.placed_per_shop.get(fault.target, 0)
        if known == 0:
            fault.note = "no deliveries yet"
            return
        ids = sorted(self.rng.sample(range(1, known + 1), min(int(fault.param), known)))
        url = self.config.url(self.sandbox_ports[fault.target])
        async with CcvShopControl(url, timeout=60) as shop:
            for delivery_id in ids:
                await shop.redeliver(delivery_id)
        fault.extra["redelivered"] = len(ids)

    async def _replay(self, fault: Fault) -> None:
        """The operator's replay: stop the ledger, reset its group on `shop.orders.v1` to a
        moment in the middle of the run with the CLI, start it again."""
        process = self.group[fault.target]
        await asyncio.to_thread(process.stop)
        now = datetime.now(UTC)
        at = self.run_started_wall + timedelta(
            seconds=(now - self.run_started_wall).total_seconds() * fault.param
        )
        group = f"{self.config.isolation}{fault.target}.main"
        topic = self.config.isolation + SHOP_ORDERS.name
        args = [
            sys.executable,
            "-m",
            "koppel_cli",
            "replay",
            "reset-offsets",
            "--group",
            group,
            "--topic",
            topic,
            "--to-datetime",
            at.isoformat(),
            "--execute",
            "--bootstrap-servers",
            self.config.kafka_bootstrap,
        ]
        # The group may take a moment to be empty after its only member left.
        for _ in range(30):
            done = await asyncio.to_thread(
                subprocess.run, args, capture_output=True, text=True, check=False
            )
            if done.returncode == 0:
                break
            await asyncio.sleep(2)
        fault.extra["reset"] = (done.stdout + done.stderr).strip().splitlines()[-3:]
        replayed = [line for line in done.stdout.splitlines() if "will be consumed again" in line]
        fault.note = replayed[0] if replayed else f"reset failed: exit {done.returncode}"
        await asyncio.to_thread(self._restart, fault.target)

"""Everything the sandbox knows: retailer accounts (each with its own orders,
shipments, returns, invoices, call counts), issued tokens, rate-limit windows,
injected faults, the clock, and the knobs for what bol leaves unconfirmed."""

from __future__ import annotations

import math
import random
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any, Literal

from koppel_sandbox_kit import Clock, FaultInjector, FixedWindowLimiter, Verdict, utcnow_seconds

from .account import Account


class NotFound(LookupError):
    pass


@dataclass
class Config:
    """Behaviour bol documents loosely or not at all; tests may change it
    (`PATCH /_control/config`). Defaults are the notes' best reading."""

    page_size: int = 50  # documented fixed size (bol.md §6)
    handled_visible_hours: float = 48.0  # handled items stay listed 48 h (§3.1)
    shipments_window_months: int = 3  # §3.3
    latest_change_date_months: int = 3  # spec: "Up to 3 months of history"
    # bol answers an empty list with `{}` (orders: client fixture; others UNCONFIRMED);
    # "array" gives the spec's required `{"orders": []}` instead.
    empty_list_shape: Literal["object", "array"] = "object"
    # In practice bol leaves `violations` out when there are none (§8), although
    # the spec marks it required; True always sends `violations: []`.
    problem_violations_always: bool = False
    process_delay_seconds: float = 0.0  # a process status stays PENDING this long
    max_invoice_bytes: int = 5 * 1024 * 1024  # UNCONFIRMED
    # Advertised `expires_in` (§2.1); the JWT's own exp is one second later (§2.1,
    # decoded sample: exp − iat = 300).
    token_expires_in: int = 299
    token_clock_skew_seconds: float = 1.0  # "Allowed clock skew: 1000 milliseconds"
    accept_wildcard: bool = False  # UNCONFIRMED: `Accept: */*` is refused with 406
    order_detail_retention_days: float | None = None  # UNCONFIRMED: kept forever
    host: str = "Instance-001"

    def update(self, changes: dict[str, Any]) -> None:
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown config keys: {sorted(unknown)}")
        if changes.get("empty_list_shape", "object") not in ("object", "array"):
            raise ValueError("empty_list_shape must be 'object' or 'array'")
        for name, value in changes.items():
            setattr(self, name, value)


@dataclass(frozen=True)
class LimitGroup:
    """A rate-limit bucket: bol limits per method and path pattern (bol.md §7)."""

    name: str
    method: str
    path: str
    capacity: int
    window_seconds: float
    source: str


DEFAULT_GROUPS: tuple[LimitGroup, ...] = (
    LimitGroup("orders-list", "GET", "/retailer/orders", 25, 60, "3p snapshot"),
    LimitGroup("order-detail", "GET", "/retailer/orders/*", 25, 1, "3p snapshot"),
    LimitGroup("order-cancellation", "PUT", "/retailer/orders/cancellation", 25, 1, "UNCONFIRMED"),
    LimitGroup("shipments-list", "GET", "/retailer/shipments", 25, 60, "3p snapshot"),
    LimitGroup("shipment-detail", "GET", "/retailer/shipments/*", 50, 60, "3p snapshot"),
    LimitGroup(
        "invoice-requests", "GET", "/retailer/shipments/invoices/requests", 25, 60, "UNCONFIRMED"
    ),
    LimitGroup("invoice-upload", "POST", "/retailer/shipments/invoices/*", 25, 1, "UNCONFIRMED"),
    LimitGroup("returns-list", "GET", "/retailer/returns", 20, 60, "3p snapshot"),
    LimitGroup("return-detail", "GET", "/retailer/returns/*", 20, 60, "3p snapshot"),
    LimitGroup("return-handle", "PUT", "/retailer/returns/*", 20, 60, "UNCONFIRMED"),
    LimitGroup("process-status", "GET", "/shared/process-status/*", 50, 1, "UNCONFIRMED"),
    LimitGroup("token", "POST", "/token", 60, 60, "UNCONFIRMED"),
)


class RateLimits:
    """One fixed window per group and account, on the state's clock (so a test's
    ManualClock decides when a window resets)."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now
        self.groups: dict[str, LimitGroup] = {}
        self._limiters: dict[str, FixedWindowLimiter] = {}
        self.restore_defaults()

    def restore_defaults(self) -> None:
        for group in DEFAULT_GROUPS:
            self.configure(group.name, group.capacity, group.window_seconds, group)

    def configure(
        self,
        name: str,
        capacity: int,
        window_seconds: float,
        base: LimitGroup | None = None,
    ) -> None:
        base = base or self.groups.get(name)
        if base is None:
            raise ValueError(f"unknown rate-limit group {name!r}; known: {sorted(self.groups)}")
        if capacity < 1 or window_seconds <= 0:
            raise ValueError("capacity must be >= 1 and window_seconds > 0")
        self.groups[name] = LimitGroup(
            name, base.method, base.path, capacity, window_seconds, base.source
        )
        self._limiters[name] = FixedWindowLimiter(
            capacity, window_seconds, clock=lambda: self._now().timestamp()
        )

    def hit(self, name: str, key: str) -> Verdict:
        return self._limiters[name].hit(key)

    def reset(self) -> None:
        for limiter in self._limiters.values():
            limiter.reset()

    def as_json(self) -> dict[str, Any]:
        return {
            g.name: {
                "method": g.method,
                "path": g.path,
                "capacity": g.capacity,
                "windowSeconds": g.window_seconds,
                "source": g.source,
            }
            for g in self.groups.values()
        }


def reset_seconds(verdict: Verdict) -> int:
    """Whole seconds until the window refills, never 0 for a refusal (Retry-After ≥ 1)."""
    return max(1, math.ceil(verdict.reset_seconds))


@dataclass
class Token:
    value: str
    retailer_id: str
    issued_at: datetime
    exp: datetime


@dataclass
class Ids:
    """Id sequences shared by all accounts and never rewound (not even by a reset),
    so an ingest that remembers ids is never fooled by a reused one."""

    counters: dict[str, int] = field(
        default_factory=lambda: {
            "order": 1_201_000_000,
            "order_item": 6_300_000_000,
            "shipment": 871_000_000,
            "transport": 412_000_000,
            "return": 16_000_000,
            "rma": 63_000_000,
            "process": 1_000_000,
            "retailer": 1_100_000,
        }
    )

    def next(self, kind: str) -> str:
        self.counters[kind] += 1
        return str(self.counters[kind])


class BolState:
    def __init__(self, clock: Clock | None = None, *, seed: int = 7) -> None:
        self._clock: Clock = clock or utcnow_seconds  # bol's timestamps carry no fraction
        self.clock_offset = timedelta(0)
        self.config = Config()
        self.limits = RateLimits(self.now)
        self.faults = FaultInjector()
        self.ids = Ids()
        self.rng = random.Random(seed)
        self.accounts: dict[str, Account] = {}
        self.tokens: dict[str, Token] = {}
        self.base_url = "http://127.0.0.1"

    @classmethod
    def demo(cls, clock: Clock | None = None) -> BolState:
        from .demo import demo_account

        state = cls(clock)
        demo_account(state)
        return state

    # --- clock ----------------------------------------------------------------

    def now(self) -> datetime:
        return self._clock().replace(microsecond=0) + self.clock_offset

    def advance_clock(self, seconds: float) -> None:
        self.clock_offset += timedelta(seconds=seconds)

    # --- accounts ---------------------------------------------------------------

    def add_account(
        self,
        *,
        retailer_id: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        name: str = "",
    ) -> Account:
        retailer_id = retailer_id or self.ids.next("retailer")
        if retailer_id in self.accounts:
            raise ValueError(f"retailer {retailer_id} exists")
        account = Account(
            retailer_id=retailer_id,
            client_id=client_id or str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            client_secret=client_secret or secrets.token_urlsafe(48),
            name=name or f"Verkoper {retailer_id}",
            state=self,
        )
        if self.by_client_id(account.client_id) is not None:
            raise ValueError(f"client id {account.client_id} is taken")
        self.accounts[retailer_id] = account
        return account

    def account(self, ref: str) -> Account:
        """An account by retailer id; "default" is the first one created."""
        if ref == "default" and self.accounts:
            return next(iter(self.accounts.values()))
        account = self.accounts.get(ref)
        if account is None:
            raise NotFound(f"no retailer account {ref}")
        return account

    def by_client_id(self, client_id: str) -> Account | None:
        return next((a for a in self.accounts.values() if a.client_id == client_id), None)

    # --- tokens -----------------------------------------------------------------

    def issue_token(self, account: Account) -> Token:
        now = self.now()
        if len(self.tokens) > 10_000:  # a long benchmark: forget tokens long expired
            horizon = now - timedelta(hours=1)
            self.tokens = {k: t for k, t in self.tokens.items() if t.exp > horizon}
        token = Token(
            value=secrets.token_urlsafe(96),
            retailer_id=account.retailer_id,
            issued_at=now,
            exp=now + timedelta(seconds=self.config.token_expires_in + 1),
        )
        self.tokens[token.value] = token
        return token

    def replace_credentials(
        self, account: Account, *, client_id: str | None = None, client_secret: str | None = None
    ) -> Account:
        """The seller deletes the account's API credentials in the seller dashboard and
        creates new ones: the old pair is refused from now on (401 invalid_client) and,
        UNCONFIRMED, so are the tokens issued to it (bol's JWTs could in principle stay
        valid until they expire; the sandbox revokes them at once, so a client meets the
        refusal on its next call rather than up to five minutes later)."""
        new_id = client_id or str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        holder = self.by_client_id(new_id)
        if holder is not None and holder is not account:
            raise ValueError(f"client id {new_id} is taken")
        account.client_id = new_id
        account.client_secret = client_secret or secrets.token_urlsafe(48)
        self.tokens = {k: t for k, t in self.tokens.items() if t.retailer_id != account.retailer_id}
        return account

    # --- reset ------------------------------------------------------------------

    def reset(self, *, demo: bool = False) -> None:
        """Forget all orders, counts, windows, faults and knobs; keep the accounts,
        their credentials and issued tokens (a running ingest keeps working)."""
        self.config = Config()
        self.limits.restore_defaults()
        self.limits.reset()
        self.faults.clear()
        self.clock_offset = timedelta(0)
        for account in self.accounts.values():
            account.clear()
        if demo:
            from .demo import DEMO, seed_demo_orders

            if DEMO.retailer_id in self.accounts:
                seed_demo_orders(self.accounts[DEMO.retailer_id])

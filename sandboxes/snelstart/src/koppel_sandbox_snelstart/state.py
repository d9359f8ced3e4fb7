"""Everything the sandbox remembers: subscription keys, koppelsleutels and the tokens issued
for them, administrations with their ledger accounts, relaties, bookings, derived invoices,
orders and articles, plus the knobs tests turn (clock, rate limits, latency, faults).

All of it lives in memory and is changed only from synchronous code on the event loop, so
every request sees and leaves a consistent state.
"""

from __future__ import annotations

import base64
import copy
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from koppel_sandbox_kit import Clock, SeededState

from .demo import (
    ACCOUNTS,
    ALL_SCOPES,
    ARTIKELEN,
    DEMO,
    OMZETGROEPEN,
    SEED_RELATIES,
    DemoAdministration,
)
from .limits import TEST_TIER, AdministrationLimiter, RateLimits
from .refdata import LAND_BY_CODE

TOKEN_LIFETIME = timedelta(seconds=3599)  # `expires_in` of the token answer (notes §2.1)
LOCAL = ZoneInfo("Europe/Amsterdam")  # SnelStart's naive timestamps are Dutch local time


@dataclass
class Grootboek:
    id: str
    nummer: int
    omschrijving: str
    grootboekfunctie: str
    btw_soorten: tuple[str, ...]
    rekening_code: str
    vat_rate_code: str | None
    nonactief: bool
    rubriek: str
    modified: datetime


@dataclass
class Booking:
    id: str
    data: dict[str, Any]  # the bound VerkoopBoekingModel, normalised
    modified: datetime
    factuur_id: str
    factuur_modified: datetime
    payments: list[Decimal] = field(default_factory=list)
    vat_return_filed: bool = False


@dataclass
class Administration:
    id: str
    naam: str
    company: dict[str, Any]
    factureer_buitenlands_btw: bool
    buitenlandse_btw_grootboek: str
    created: datetime
    grootboeken: dict[str, Grootboek] = field(default_factory=dict)
    relaties: dict[str, dict[str, Any]] = field(default_factory=dict)
    boekingen: dict[str, Booking] = field(default_factory=dict)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    omzetgroepen: dict[str, dict[str, Any]] = field(default_factory=dict)
    artikelen: dict[str, dict[str, Any]] = field(default_factory=dict)
    blocked_until: date | None = None  # BOE-0042 / BOE-0051 for dates up to this one
    blocked_by_accountant: bool = False
    next_order_nummer: int = 1
    next_factuurnummer: int = 1
    # Test hook: the next booking is stored with its total (and first line) off by this, as
    # if someone changed it in SnelStart right after (for read-back checks).
    tamper_next: Decimal | None = None

    def booking_by_factuur(self, factuur_id: str) -> Booking | None:
        return next((b for b in self.boekingen.values() if b.factuur_id == factuur_id), None)

    def next_relatiecode(self) -> int:
        """The next free relatie number: one above the highest in use (UNCONFIRMED)."""
        return max((r["relatiecode"] for r in self.relaties.values()), default=0) + 1


@dataclass
class Koppelsleutel:
    value: str
    administration_id: str
    scopes: tuple[str, ...]


@dataclass
class Token:
    jti: str
    koppelsleutel: str
    administration_id: str
    scopes: tuple[str, ...]
    expires_at: datetime


class SnelStartState(SeededState):
    """In-memory SnelStart. `SnelStartState.demo()` holds the two administrations of `DEMO`."""

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        limits: RateLimits = TEST_TIER,
        seed: Callable[[SnelStartState], None] | None = None,
    ) -> None:
        self._initial_limits = limits
        self.signing_key = secrets.token_bytes(32)
        super().__init__(clock, seed)

    @classmethod
    def demo(cls, clock: Clock | None = None, *, limits: RateLimits = TEST_TIER) -> SnelStartState:
        return cls(clock, limits=limits, seed=seed_demo)

    def _init_data(self) -> None:
        self.subscription_keys: set[str] = set()
        self.koppelsleutels: dict[str, Koppelsleutel] = {}
        self.tokens: dict[str, Token] = {}
        self.administrations: dict[str, Administration] = {}
        self.calls: Counter[tuple[str | None, str]] = Counter()
        self.latency_seconds = 0.0
        self.set_limits(self._initial_limits)

    # ------------------------------------------------------------------ clock
    def local_now(self) -> datetime:
        """Naive Dutch local time, the way SnelStart writes `modifiedOn` (notes §3)."""
        return self.now().astimezone(LOCAL).replace(tzinfo=None)

    # ------------------------------------------------------------------ keys and tokens
    def add_koppelsleutel(self, administration_id: str, value: str | None = None) -> str:
        if value is None:
            secret = f"{secrets.token_hex(8)}:{secrets.token_urlsafe(24)}"
            value = base64.b64encode(secret.encode()).decode()
        self.koppelsleutels[value] = Koppelsleutel(value, administration_id, ALL_SCOPES)
        return value

    def revoke_koppelsleutel(self, value: str) -> None:
        """The customer deletes the koppeling: the key and every token for it stop working."""
        self.koppelsleutels.pop(value)
        for jti in [j for j, t in self.tokens.items() if t.koppelsleutel == value]:
            del self.tokens[jti]

    def regenerate_koppelsleutel(self, value: str) -> str:
        """The customer regenerates the key: a new one for the same administration."""
        old = self.koppelsleutels[value]
        self.revoke_koppelsleutel(value)
        new = self.add_koppelsleutel(old.administration_id)
        self.koppelsleutels[new].scopes = old.scopes
        return new

    def expire_tokens(self) -> None:
        for token in self.tokens.values():
            token.expires_at = self.now()

    def issue_token(self, key: Koppelsleutel) -> Token:
        token = Token(
            secrets.token_hex(16),
            key.value,
            key.administration_id,
            key.scopes,
            self.now() + TOKEN_LIFETIME,
        )
        self.tokens[token.jti] = token
        return token

    def live_token(self, jti: str) -> Token | None:
        token = self.tokens.get(jti)
        if token is None or token.koppelsleutel not in self.koppelsleutels:
            return None
        if self.now() >= token.expires_at:
            del self.tokens[jti]
            return None
        return token

    # ------------------------------------------------------------------ limits and counters
    def set_limits(self, limits: RateLimits, administration_id: str | None = None) -> None:
        """The default tier for every administration, or one administration's own limits.
        Resets the windows of whatever it changes."""
        clock = lambda: self.now().timestamp()  # noqa: E731
        if administration_id is None:
            self.limits = limits
            self.limiters: dict[str, AdministrationLimiter] = {}
            self.limit_overrides: dict[str, RateLimits] = {}
        else:
            self.limit_overrides[administration_id] = limits
            self.limiters.pop(administration_id, None)
        self._limiter_clock = clock

    def limiter(self, administration_id: str) -> AdministrationLimiter:
        if administration_id not in self.limiters:
            limits = self.limit_overrides.get(administration_id, self.limits)
            self.limiters[administration_id] = AdministrationLimiter(limits, self._limiter_clock)
        return self.limiters[administration_id]

    def count_call(self, administration_id: str | None, operation: str) -> None:
        self.calls[(administration_id, operation)] += 1

    def call_counts(self, administration_id: str | None = None) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for (admin, operation), n in self.calls.items():
            if administration_id is None or admin == administration_id:
                counts[operation] += n
        return dict(sorted(counts.items()))

    # ------------------------------------------------------------------ building
    def add_administration(self, demo: DemoAdministration) -> Administration:
        created = self.local_now().replace(microsecond=0)
        admin = Administration(
            id=demo.administratie_id,
            naam=demo.naam,
            company=_company(demo, created),
            factureer_buitenlands_btw=demo.factureer_buitenlands_btw,
            buitenlandse_btw_grootboek=demo.grootboeken["foreign_vat"],
            created=created,
        )
        for account in ACCOUNTS:
            gid = demo.grootboeken[account.key]
            admin.grootboeken[gid] = Grootboek(
                gid,
                account.nummer,
                account.omschrijving,
                account.grootboekfunctie,
                account.btw_soorten,
                account.rekening_code,
                account.vat_rate_code,
                account.nonactief,
                account.rubriek,
                created,
            )
        for key, seed in SEED_RELATIES.items():
            admin.relaties[demo.relaties[key]] = _seed_relatie(
                demo.relaties[key], demo.relatiecodes[key], seed, created
            )
        for key, (nummer, omschrijving, btw_soort, account) in OMZETGROEPEN.items():
            gid = demo.omzetgroepen[key]
            admin.omzetgroepen[gid] = {
                "id": gid,
                "nummer": nummer,
                "omschrijving": omschrijving,
                "verkoopNederlandBtwSoort": btw_soort,
                "grootboek": demo.grootboeken[account],
            }
        for artikel in ARTIKELEN:
            aid = demo.artikelen[artikel.key]
            admin.artikelen[aid] = {
                "id": aid,
                "artikelcode": artikel.artikelcode,
                "omschrijving": artikel.omschrijving,
                "omzetgroep": demo.omzetgroepen[artikel.omzetgroep],
                "verkoopprijs": artikel.verkoopprijs,
                "modified": created,
            }
        self.administrations[admin.id] = admin
        self.koppelsleutels[demo.koppelsleutel] = Koppelsleutel(
            demo.koppelsleutel, admin.id, ALL_SCOPES
        )
        return admin


def _company(demo: DemoAdministration, created: datetime) -> dict[str, Any]:
    return {
        "administratieNaam": demo.naam,
        "bedrijfsnaam": demo.naam,
        "contactpersoon": "Sanne de Vries",
        "adres": "Keizersgracht 1" if demo.key == "main" else "Grensweg 7",
        "postcode": "1015 CJ" if demo.key == "main" else "7511 AA",
        "plaats": "Amsterdam" if demo.key == "main" else "Enschede",
        "telefoon": "020-1234567",
        "email": f"boekhouding@{demo.key}.koppel-demo.example",
        "website": f"https://{demo.key}.koppel-demo.example",
        "iban": "NL91ABNA0417164300",
        "bic": "ABNANL2A",
        "rechtsvorm": "Bv",
        "btwNummer": "NL001234567B01" if demo.key == "main" else "NL009876543B01",
        "kvKNummer": "12345678" if demo.key == "main" else "87654321",
        "huidigBoekjaar": created.year,
        "beginmaandFiscaleBoekjaar": 1,
        "btwAangiftePeriodeSoort": "Kwartaal",
        "icpAangiftePeriodeSoort": "Kwartaal",
    }


def _seed_relatie(rid: str, code: int, seed: dict[str, Any], created: datetime) -> dict[str, Any]:
    record = copy.deepcopy(seed)
    address = record.get("vestigingsAdres")
    if address is not None:
        land = LAND_BY_CODE[address.pop("land", "NL")]
        record["vestigingsAdres"] = {"contactpersoon": None, **address, "land": land.id}
    return {"id": rid, "relatiecode": code, "modifiedOn": created, **record}


def seed_demo(state: SnelStartState) -> None:
    state.subscription_keys |= {DEMO.subscription_key, DEMO.secondary_subscription_key}
    for demo in DEMO.administrations:
        state.add_administration(demo)

"""Everything the sandbox remembers: software houses, users, tokens, dossiers
with their book years, journals, accounts, VAT codes, relations and documents,
plus the knobs tests turn (clock, quota, tolerances, tampering, faults).

All of it lives in memory and is changed only from synchronous code on the
event loop, so every request sees and leaves a consistent state.
"""

from __future__ import annotations

import calendar
import copy
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from koppel_sandbox_kit import Clock, FixedWindowLimiter, SeededState

from . import errors as E
from .demo import ACCOUNTS, DEMO, SEED_RELATIONS, VAT_CODES, AccountSpec, VatCodeSpec
from .errors import OctopusError

DocKey = tuple[int, str, int]  # (bookyear id, journal key, documentSequenceNr)

TOKEN_TTL = timedelta(minutes=10)
DEFAULT_QUOTA = 400
DAY_SECONDS = 86_400.0


def format_timestamp(moment: datetime) -> str:
    """`YYYY-MM-DD HH:MM:SS.mmm` in UTC, the shape of `modifiedTimeStamp`."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def parse_timestamp(value: str) -> datetime:
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(value.strip(), fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise ValueError(value)


@dataclass
class User:
    login: str
    password: str
    name: str
    dossier_ids: list[int]
    webservice_module: bool = True


@dataclass
class Token:
    value: str
    kind: str  # "auth" | "dossier"
    user: str
    dossier_id: int | None
    expires_at: datetime


@dataclass(frozen=True)
class Period:
    nr: int
    start: date
    end: date


@dataclass
class Bookyear:
    id: int
    description: str
    start: date
    end: date
    closed: bool
    periods: list[Period]

    def period(self, nr: int) -> Period | None:
        return next((p for p in self.periods if p.nr == nr), None)


@dataclass
class Journal:
    bookyear_id: int
    key: str
    name: str
    modified: datetime
    closed: bool = False


@dataclass
class Record:
    data: dict[str, Any]
    modified: datetime
    booked: bool = True  # invoices: False while concept


@dataclass
class Tamper:
    total_delta: Decimal
    relation_id: int | None


@dataclass
class Dossier:
    id: int
    description: str
    street: str
    postal_code: str
    city: str
    country: str
    email: str
    url: str
    vat_nr: str
    created: datetime
    invoice_module: bool = True
    bookyears: dict[int, Bookyear] = field(default_factory=dict)
    journals: dict[tuple[int, str], Journal] = field(default_factory=dict)
    accounts: dict[int, AccountSpec] = field(default_factory=dict)
    vat_codes: dict[str, VatCodeSpec] = field(default_factory=dict)
    relations: dict[int, Record] = field(default_factory=dict)
    next_relation_id: int = 1001
    buysell: dict[DocKey, Record] = field(default_factory=dict)
    financial: dict[DocKey, Record] = field(default_factory=dict)
    invoices: dict[DocKey, Record] = field(default_factory=dict)
    closed_periods: set[int] = field(default_factory=set)

    def summary(self) -> dict[str, Any]:
        return {
            "dossierKey": {"id": self.id},
            "dossierDescription": self.description,
            "streetAndNr": self.street,
            "postalCode": self.postal_code,
            "city": self.city,
            "country": self.country,
            "email": self.email,
            "url": self.url,
            "vatNr": self.vat_nr,
        }

    def doc_taken(self, key: DocKey) -> bool:
        return key in self.buysell or key in self.invoices or key in self.financial

    def last_document_nr(self, bookyear_id: int, journal_key: str) -> int:
        """`lastBookedDocumentNr`: highest number in use in the journal, concept
        invoices included (so `last + 1` is always free)."""
        numbers = [
            nr
            for store in (self.buysell, self.invoices, self.financial)
            for (by, jk, nr) in store
            if by == bookyear_id and jk == journal_key
        ]
        return max(numbers, default=0)

    def relation_by_external(self, external_id: int) -> Record | None:
        if not external_id:
            return None
        for record in self.relations.values():
            if (
                record.data["relationIdentificationServiceData"]["externalRelationId"]
                == external_id
            ):
                return record
        return None


class OctopusState(SeededState):
    """In-memory Octopus. `OctopusState.demo()` gives the demo software house,
    user and dossiers of `DEMO`."""

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        quota: int | None = DEFAULT_QUOTA,
        seed: Callable[[OctopusState], None] | None = None,
    ) -> None:
        self._initial_quota = quota
        super().__init__(clock, seed)

    @classmethod
    def demo(cls, clock: Clock | None = None, *, quota: int | None = DEFAULT_QUOTA) -> OctopusState:
        return cls(clock, quota=quota, seed=seed_demo)

    def _init_data(self) -> None:
        self.software_houses: set[str] = set()
        self.users: dict[str, User] = {}
        self.dossiers: dict[int, Dossier] = {}
        self.tokens: dict[str, Token] = {}
        self.calls: Counter[tuple[int | None, str]] = Counter()
        self.tamper: Tamper | None = None
        self.amount_tolerance = Decimal("0.00")
        self.vat_tolerance = Decimal("0.01")
        self.set_quota(self._initial_quota)

    # ------------------------------------------------------------------ building
    def add_dossier(self, dossier: Dossier, *, first_year: int, last_year: int) -> Dossier:
        """Give `dossier` calendar book years with monthly periods, journals V1/A1/F1/D1,
        the accounts and VAT codes of demo.py; a book year before the current one's
        predecessor is closed."""
        current = self.now().year
        for offset, year in enumerate(range(first_year, last_year + 1)):
            by_id = offset + 1
            periods = [
                Period(
                    year * 100 + month,
                    date(year, month, 1),
                    date(year, month, calendar.monthrange(year, month)[1]),
                )
                for month in range(1, 13)
            ]
            dossier.bookyears[by_id] = Bookyear(
                by_id, str(year), date(year, 1, 1), date(year, 12, 31), year < current - 1, periods
            )
            for key, name in (
                (DEMO.journal_sales, "Verkopen"),
                (DEMO.journal_purchases, "Aankopen"),
                (DEMO.journal_financial, "Bank"),
                (DEMO.journal_divers, "Diverse verrichtingen"),
            ):
                dossier.journals[(by_id, key)] = Journal(by_id, key, name, dossier.created)
        dossier.accounts = {a.number: a for a in ACCOUNTS}
        dossier.vat_codes = {v.code: v for v in VAT_CODES}
        for relation in SEED_RELATIONS:
            rid = relation["relationIdentificationServiceData"]["relationKey"]["id"]
            dossier.relations[rid] = Record(copy.deepcopy(relation), dossier.created)
            dossier.next_relation_id = max(dossier.next_relation_id, rid + 1)
        self.dossiers[dossier.id] = dossier
        return dossier

    # ------------------------------------------------------------------ tokens
    def _issue(self, kind: str, user: str, dossier_id: int | None) -> str:
        value = secrets.token_urlsafe(32)
        self.tokens[value] = Token(value, kind, user, dossier_id, self.now() + TOKEN_TTL)
        return value

    def authenticate(self, software_house: str | None, login: str, password: str) -> str:
        if not software_house:
            raise OctopusError(
                401,
                E.SOFTWARE_HOUSE_UNKNOWN,
                "Software house identificatie ontbreekt",
                "header softwareHouseUuid missing",
            )
        if software_house not in self.software_houses:
            raise OctopusError(
                403,
                E.SOFTWARE_HOUSE_UNKNOWN,
                "Onbekende of gedeactiveerde software house identificatie",
                "softwareHouseUuid not registered",
            )
        user = self.users.get(login)
        if user is None or not secrets.compare_digest(user.password, password):
            raise OctopusError(
                401,
                E.AUTH_FAILED,
                "Ongeldige gebruikersnaam of wachtwoord",
                "authentication failed",
            )
        if not user.webservice_module:
            raise OctopusError(
                403, E.WEBSERVICE_MODULE_OFF, "Webservice module niet actief", "module off"
            )
        return self._issue("auth", login, None)

    def token(self, value: str | None, kind: str) -> Token:
        token = self.tokens.get(value or "")
        if token is None or token.kind != kind:
            raise OctopusError(
                401, E.TOKEN_INVALID, "Ongeldig of verlopen token", f"{kind} token unknown"
            )
        if self.now() >= token.expires_at:
            del self.tokens[token.value]
            raise OctopusError(
                401, E.TOKEN_INVALID, "Ongeldig of verlopen token", f"{kind} token expired"
            )
        return token

    def connect_dossier(self, auth_token: Token, dossier_id: int) -> str:
        if dossier_id not in self.dossiers:
            raise OctopusError(404, E.DOSSIER_UNKNOWN, "Dossier niet gevonden", f"{dossier_id}")
        if dossier_id not in self.users[auth_token.user].dossier_ids:
            raise OctopusError(
                403, E.DOSSIER_FORBIDDEN, "Geen toegang tot dit dossier", f"dossier {dossier_id}"
            )
        return self._issue("dossier", auth_token.user, dossier_id)

    def dossier_for(self, token_value: str | None, dossier_id: int) -> Dossier:
        token = self.token(token_value, "dossier")
        if token.dossier_id != dossier_id:
            raise OctopusError(
                403,
                E.DOSSIER_TOKEN_MISMATCH,
                "Dossiertoken hoort niet bij dit dossier",
                f"token is for dossier {token.dossier_id}, path says {dossier_id}",
            )
        return self.dossiers[dossier_id]

    def set_password(self, login: str, password: str) -> None:
        if login not in self.users:
            raise KeyError(login)
        self.users[login].password = password
        for value in [v for v, t in self.tokens.items() if t.user == login]:
            del self.tokens[value]

    def expire_tokens(self) -> None:
        now = self.now()
        for token in self.tokens.values():
            token.expires_at = now

    # ------------------------------------------------------------------ quota
    def set_quota(self, calls_per_endpoint_per_day: int | None) -> None:
        self.quota = calls_per_endpoint_per_day
        self.limiter = (
            None
            if calls_per_endpoint_per_day is None
            else FixedWindowLimiter(
                calls_per_endpoint_per_day, DAY_SECONDS, clock=lambda: self.now().timestamp()
            )
        )

    def count_call(self, dossier_id: int | None, endpoint: str) -> None:
        self.calls[(dossier_id, endpoint)] += 1

    def check_quota(self, scope: str, endpoint: str) -> None:
        if self.limiter is None:
            return
        verdict = self.limiter.hit(f"{scope}|{endpoint}")
        if not verdict.allowed:
            raise OctopusError(
                429,
                E.QUOTA_EXCEEDED,
                "Dagelijks maximum aantal oproepen voor deze functie bereikt",
                f"quota of {verdict.limit} calls per day for {endpoint} exceeded",
                headers={"Retry-After": str(max(1, int(verdict.reset_seconds)))},
            )

    def call_counts(self, dossier_id: int | None = None) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for (d, endpoint), n in self.calls.items():
            if dossier_id is None or d == dossier_id:
                counts[endpoint] += n
        return dict(sorted(counts.items()))


def seed_demo(state: OctopusState) -> None:
    created = state.now()
    year = created.year
    state.software_houses.add(DEMO.software_house_uuid)
    state.users[DEMO.user] = User(
        DEMO.user, DEMO.password, "Koppel Demo", [DEMO.dossier_id, DEMO.second_dossier_id]
    )
    state.users["someone-else"] = User(
        "someone-else", secrets.token_urlsafe(16), "Other accountant", [DEMO.foreign_dossier_id]
    )
    first, last = min(2024, year - 1), year + 1
    state.add_dossier(
        Dossier(
            DEMO.dossier_id,
            "Koppel Demo Webshop B.V.",
            "Keizersgracht 1",
            "1015 CJ",
            "Amsterdam",
            "NL",
            "boekhouding@demo-webshop.example",
            "https://demo-webshop.example",
            "NL001234567B01",
            created,
        ),
        first_year=first,
        last_year=last,
    )
    state.add_dossier(
        Dossier(
            DEMO.second_dossier_id,
            "Koppel Demo Tweede Winkel",
            "Kerkstraat 2",
            "2000",
            "Antwerpen",
            "BE",
            "info@tweede-winkel.example",
            "",
            "BE0123456749",
            created,
            invoice_module=False,
        ),
        first_year=first,
        last_year=last,
    )
    state.add_dossier(
        Dossier(
            DEMO.foreign_dossier_id,
            "Dossier van een ander kantoor",
            "Rue Neuve 3",
            "1000",
            "Bruxelles",
            "BE",
            "",
            "",
            "BE0987654312",
            created,
        ),
        first_year=first,
        last_year=last,
    )

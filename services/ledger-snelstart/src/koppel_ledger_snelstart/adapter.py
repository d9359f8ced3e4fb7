"""SnelStart as a ledger of the runtime: verkoopboekingen, found again by their invoice
number, refusals understood from SnelStart's documented error codes (notes §10).

Invoice numbers are not ours to choose: an order's number is its shop order number
(optionally with the year in front, "order 10330 of 2023 → 202310330"); a later document
of the same order adds a suffix — a credit note `-C1`, `-C2`, a rebooking after a credit
`-2`, `-3` — so every document has its own number (SnelStart refuses a duplicate, BOE-0021)
and a number held by someone else's booking is a failure the merchant resolves, never a
reason to book under another number.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from koppel_chassis import ExternalError, PermanentError, SecretBox
from koppel_contracts import (
    ConnectionSettings,
    LedgerRef,
    LedgerSystem,
    SnelStartMode,
    SnelStartOptions,
    SourceSystem,
    VatTreatment,
)
from koppel_ledger import (
    LEDGER_ZONE,
    DraftRequest,
    LedgerDescription,
    LedgerDoc,
    LedgerMetrics,
    NotReplaceable,
    Op,
    ReadBack,
    RecordedPlan,
    Refusal,
    SettingsIncomplete,
    document_date,
)

from .client import (
    ClientOptions,
    SnelStartAccount,
    SnelStartClient,
    error_codes,
    snelstart_message,
)
from .debtors import Debtors
from .describe import describe
from .mapping import Accounts, booking_body, description, read_booking
from .orders import OrderArticles, OrderMode
from .reference import AdministrationCache
from .refusals import CODE_MEANINGS, SNELSTART_TEXTS
from .settings import LedgerSnelStartSettings

log = logging.getLogger(__name__)

MAX_NUMBER = 25  # BOE-0058
FIXABLE = frozenset(
    {
        "inactive_ledger_account",
        "vat_kind_not_allowed",
        "period_blocked",
        "foreign_vat_off",
        "invoice_number_too_long",
        "missing_right",
        "order_article_missing",
        "order_article_unknown",
        "order_article_kind",
        "order_mode_no_oss",
    }
)


def invoice_number(base: str, op: Op, credits: int) -> str:
    if op == Op.CREDIT:
        return f"{base}-C{credits + 1}"
    return base if credits == 0 else f"{base}-{credits + 1}"


class SnelStartSession:
    def __init__(
        self, adapter: SnelStartAdapter, client: SnelStartClient, settings: ConnectionSettings
    ) -> None:
        self.adapter = adapter
        self.client = client
        self.settings = settings
        self.options: SnelStartOptions = settings.ledger.snelstart or SnelStartOptions()
        self.orders = (
            OrderMode(client, adapter.order_articles, self.options.order_articles)
            if self.options.mode == SnelStartMode.ORDER
            else None
        )

    @property
    def reference(self) -> AdministrationCache:
        return self.adapter.reference

    async def prepare(self, request: DraftRequest, *, number: str | None = None) -> LedgerDoc:
        order = request.event.order
        if request.source is not None:
            debtor = request.source.debtor
            day = datetime.now(UTC).astimezone(LEDGER_ZONE).date()
        else:
            debtor = await self.adapter.debtors.debtor_for(
                self.client,
                order,
                self.settings.ledger.booking,
                order_key=request.order_id,
                connection_id=request.event.connection_id,
                shop=self.settings.shop.system,
            )
            day = document_date(order)
        ordered = self.orders is not None
        if self.orders is not None:
            await self.orders.check(request.plan, day)
            oss = False
        else:
            oss = await self._check(request.plan, day)
        if number is None:
            base = order.order_number
            if self.options.year_in_invoice_number:
                base = f"{document_date(order).year}{base}"
            number = invoice_number(base, request.op, request.credits)
            if len(number) > MAX_NUMBER:
                raise Refusal("invoice_number_too_long", number=number, limit=MAX_NUMBER)
        return LedgerDoc(
            op=request.op,
            revision=request.revision,
            number=number,
            reference=order.order_number,
            debtor=debtor,
            plan=request.plan,
            placement={
                "day": day.isoformat(),
                "oss": oss,
                "country": request.plan.country_code,
                "shop": request.event.source_system.value,
                "mode": SnelStartMode.ORDER.value if ordered else SnelStartMode.BOOKING.value,
            },
        )

    async def _check(self, plan: RecordedPlan, day: date) -> bool:
        """The mapping against the administration: accounts exist, are active and take the
        line's VAT kind; each kind's percentage is the rate; OSS only when SnelStart books
        foreign VAT. Returns whether the plan is an OSS booking."""
        oss = plan.treatment == VatTreatment.OSS.value
        for line in plan.bookable_lines():
            kind = "Geen" if oss else line.vat_code
            if not oss:
                await self.reference.check_vat_kind(self.client, kind, line.vat_rate, day)
            await self.reference.account(
                self.client, line.ledger_account, rate=line.vat_rate, kind=kind
            )
        if oss:
            company = await self.reference.company(self.client)
            if not company.get("factureerBuitenlandsBtw"):
                raise Refusal("foreign_vat_off", country=plan.country_code)
        return oss

    async def renumber(self, draft: LedgerDoc) -> LedgerDoc:
        # The order's number belongs to someone else's booking: the merchant decides.
        raise Refusal("number_taken", number=draft.number)

    async def _accounts(self, doc: LedgerDoc) -> Accounts:
        known = await self.reference.accounts(self.client)
        foreign = None
        if doc.placement.get("oss"):
            company = await self.reference.company(self.client)
            foreign_ref = company.get("buitenlandseBtwGrootboek") or {}
            foreign = str(foreign_ref.get("id")) if foreign_ref.get("id") else None
            if foreign is None:
                raise Refusal("foreign_vat_off", country=doc.placement.get("country", "?"))
        return Accounts({n: a.id for n, a in known.items()}, foreign)

    def _body(self, doc: LedgerDoc, accounts: Accounts) -> dict[str, Any]:
        return booking_body(
            doc,
            accounts,
            shop=str(doc.placement.get("shop") or "shop"),
            language=self.settings.merchant.language,
            term_days=self.options.payment_term_days,
            oss=bool(doc.placement.get("oss")),
        )

    def _ordered(self, doc: LedgerDoc) -> OrderMode | None:
        if doc.placement.get("mode") != SnelStartMode.ORDER.value:
            return None
        return self.orders or OrderMode(
            self.client, self.adapter.order_articles, self.options.order_articles
        )

    async def create(self, draft: LedgerDoc) -> LedgerDoc:
        orders = self._ordered(draft)
        if orders is not None:
            shop = str(draft.placement.get("shop") or "shop")
            return await orders.create(
                draft, description(draft, shop, self.settings.merchant.language)
            )
        created = await self.client.create_booking(self._body(draft, await self._accounts(draft)))
        return replace(draft, ledger_id=str(created["id"]) if created else None)

    async def replace(self, current: LedgerDoc, draft: LedgerDoc) -> LedgerDoc:
        """Correct the booking in place (`PUT`), keeping its number and customer; SnelStart
        refuses that for a booking in a filed VAT return (BOE-0046): credit and rebook."""
        if current.ledger_id is None or self._ordered(current) is not None:
            raise NotReplaceable()  # a concept order cannot be edited through the API
        await self._check(draft.plan, date.fromisoformat(current.placement["day"]))
        body = {**self._body(draft, await self._accounts(draft)), "id": current.ledger_id}
        try:
            await self.client.update_booking(current.ledger_id, body)
        except PermanentError as error:
            if {"BOE-0046", "BOE-0042", "BOE-0051"} & set(error_codes(error)):
                raise NotReplaceable() from None
            raise
        return replace(draft, ledger_id=current.ledger_id)

    async def read(self, doc: LedgerDoc) -> ReadBack | None:
        orders = self._ordered(doc)
        if orders is not None:
            return await orders.read(doc)
        booking_id = doc.ledger_id
        if booking_id is None:
            invoices = await self.client.invoices_numbered(doc.number)
            if not invoices:
                return None
            booking_id = str((invoices[0].get("verkoopBoeking") or {}).get("id") or "")
            if not booking_id:
                return None
        data = await self.client.booking(booking_id)
        if data is None:
            return None
        company = await self.reference.company(self.client)
        foreign = (company.get("buitenlandseBtwGrootboek") or {}).get("id")
        rates = await self.reference.vat_rates(self.client)
        return read_booking(data, rates, str(foreign) if foreign else None)

    async def find(self, doc: LedgerDoc) -> list[ReadBack]:
        found = await self.read(doc)  # numbers derive from the order: its number is the key
        return [found] if found is not None else []

    def explain(self, error: ExternalError) -> Refusal | None:
        for code in error_codes(error):
            meaning = CODE_MEANINGS.get(code)
            if meaning is not None:
                return Refusal(meaning, code=code, message=snelstart_message(error))
        return None

    def ledger_ref(self, doc: LedgerDoc) -> LedgerRef:
        return LedgerRef(
            booking_id=doc.ledger_id or doc.number,
            document_number=doc.number,
            debtor_id=doc.debtor.id,
            journal="verkoopboekingen",
        )

    async def forget_reference(self) -> None:
        self.reference.forget(self.client)


class SnelStartAdapter:
    system = LedgerSystem.SNELSTART
    source_system = SourceSystem.SNELSTART
    component = "ledger-snelstart"
    display_name = "SnelStart"
    texts = SNELSTART_TEXTS
    settings_fixable = FIXABLE
    can_replace = True

    def __init__(
        self, settings: LedgerSnelStartSettings, metrics: LedgerMetrics | None, secrets: SecretBox
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.secrets = secrets
        self.options = ClientOptions(
            timeout_seconds=settings.http_timeout_seconds,
            max_attempts=settings.http_max_attempts,
            max_retry_seconds=settings.http_max_retry_seconds,
            initial_backoff=settings.http_initial_backoff_seconds,
            max_backoff=settings.http_max_backoff_seconds,
            requests_per_minute=settings.requests_per_minute,
            concurrent_requests=settings.concurrent_requests,
            token_renew_seconds=settings.token_renew_seconds,
        )
        self.reference = AdministrationCache(settings.reference_refresh)
        self.debtors = Debtors(self.reference)
        self.order_articles = OrderArticles(self.reference)
        self._clients: dict[str, SnelStartClient] = {}
        self._retired: list[SnelStartClient] = []

    def session(self, connection_id: str, settings: ConnectionSettings) -> SnelStartSession:
        account = SnelStartAccount.from_settings(settings, self.settings.token_url)
        client = self._clients.get(connection_id)
        if client is None or client.account != account:
            if client is not None:
                self._retired.append(client)
            client = self._client(account)
            self._clients[connection_id] = client
        return SnelStartSession(self, client, settings)

    def _client(self, account: SnelStartAccount) -> SnelStartClient:
        if self.settings.subscription_key is None:
            raise SettingsIncomplete("the service has no SnelStart subscription key")
        return SnelStartClient(
            account,
            self.secrets,
            self.settings.subscription_key.get_secret_value(),
            options=self.options,
            metrics=self.metrics,
        )

    async def describe(self, settings: ConnectionSettings) -> LedgerDescription:
        account = SnelStartAccount.from_settings(settings, self.settings.token_url)
        # A cache of its own: what unsaved settings find must not answer for the live ones.
        articles = OrderArticles(AdministrationCache(self.settings.reference_refresh))
        return await describe(self._client(account), articles, settings)

    def drop(self, connection_id: str) -> None:
        client = self._clients.pop(connection_id, None)
        if client is not None:
            client.drop_token()
            self._retired.append(client)  # another task may be mid-call: closed at the end

    async def maintain(self) -> None:
        """Nothing of its own to clean up (caches expire by themselves)."""

    async def aclose(self) -> None:
        for client in [*self._clients.values(), *self._retired]:
            await client.aclose()
        self._clients.clear()
        self._retired.clear()


__all__ = ["SnelStartAdapter", "SnelStartSession", "invoice_number"]

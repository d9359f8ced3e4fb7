"""The parts the dashboard's browser test adds to the end-to-end system: merchant A's own
CCV Shop and Octopus sandboxes, accounts on the system's dashboard made with the operator
CLI, Debian's Chromium, and small page helpers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from koppel_chassis import SecretBox
from koppel_contracts import ConnectionSettings, LedgerConnection, Merchant, ShopConnection
from koppel_demo.ledgers import demo_octopus_ledger
from koppel_demo.processes import ProcessGroup
from koppel_demo.system import SystemConfig, database_prefix, sandbox_process
from koppel_sandbox_kit import free_port
from koppel_sandbox_octopus import demo_booking
from playwright.async_api import Browser, Page, async_playwright, expect

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = ROOT / ".local" / "artefacts" / "dashboard"
CHROMIUM = "/usr/bin/chromium"
# Debian's Chromium as the machine notes say it runs here: no sandbox (root), and none of
# the background connections a closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
A, B = "dash-koffie-ccv-octopus", "dash-thee-bol-asperion"
A_EMAIL, B_EMAIL = "inkoop@koffie.test", "baas@thee.test"
PASSWORD = "een lang wachtwoord voor de test"
MERCHANT_EMAIL = "boekhouding@dash-koffie.test"
CCV_KEY, CCV_SECRET = "dash-public-key", "dash-secret-0123456789"


def ensure_chromium() -> None:
    """CI starts from a clean machine: Debian's chromium package, installed once."""
    if Path(CHROMIUM).exists():
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    assert Path(CHROMIUM).exists(), "apt-get install chromium did not give /usr/bin/chromium"


@pytest.fixture(scope="module")
def parts(config: SystemConfig, system: ProcessGroup) -> Iterator[dict[str, Any]]:
    """Merchant A's own shop and ledger sandboxes as processes next to the e2e system, and
    the accounts of A, B and support on the system's dashboard (whose support cases go to
    `config.support_email`)."""
    ensure_chromium()
    group = ProcessGroup()
    ports = {"ccvshop": free_port(), "octopus": free_port(), "dashboard": config.ports.dashboard}
    try:
        group.start(
            sandbox_process(
                config,
                "dash-ccvshop",
                "koppel_sandbox_ccvshop",
                ports["ccvshop"],
                "--public-key",
                CCV_KEY,
                "--secret",
                CCV_SECRET,
            )
        )
        group.start(
            sandbox_process(
                config, "dash-octopus", "koppel_sandbox_octopus", ports["octopus"], "--quota", "0"
            )
        )
        support = config.support_email
        database = f"{database_prefix(config)}dashboard"
        for email, role, connection in (
            (A_EMAIL, "merchant", A),
            (B_EMAIL, "merchant", B),
            (support, "support", None),
        ):
            create_account(config, database, email, role, connection)
        yield {"url": config.url(ports["dashboard"]), "support": support, **ports}
    finally:
        group.stop_all()


def create_account(
    config: SystemConfig, database: str, email: str, role: str, connection: str | None
) -> None:
    """With the operator CLI, as an operator would."""
    args = [
        sys.executable,
        "-m",
        "koppel_cli",
        "accounts",
        "create",
        email,
        "--role",
        role,
        "--password-stdin",
        "--database",
        database,
    ]
    if connection:
        args += ["--connection", connection]
    done = subprocess.run(
        args,
        input=PASSWORD + "\n",
        text=True,
        capture_output=True,
        env={**os.environ, "KOPPEL_MONGODB_URI": config.mongodb_uri},
        check=False,
    )
    assert done.returncode == 0, done.stderr + done.stdout


def connection_a(config: SystemConfig, parts: dict[str, Any]) -> ConnectionSettings:
    """Merchant A books in Octopus, but its mapping lacks 9 %: coffee orders fail."""
    box = SecretBox(config.secrets_key)
    booking = demo_booking()
    without_9 = [
        m for m in booking.vat_accounts if not (m.vat_rate == 9 and m.treatment == "domestic")
    ]
    return ConnectionSettings(
        merchant=Merchant(name="Koffie Dashboard", contact_email=MERCHANT_EMAIL),
        shop=ShopConnection(
            system="ccvshop",
            base_url=config.url(parts["ccvshop"]),
            account_id=CCV_KEY,
            credentials={"api_secret": box.encrypt(CCV_SECRET)},
        ),
        ledger=demo_octopus_ledger(
            box,
            config.url(parts["octopus"]),
            booking=booking.model_copy(update={"vat_accounts": without_9}),
        ),
    )


def connection_b() -> ConnectionSettings:
    """Merchant B: switched off, so no service acts on it; only the dashboard shows it."""
    return ConnectionSettings(
        merchant=Merchant(name="Theehuis Dashboard", contact_email="baas@thee.test"),
        shop=ShopConnection(system="bol", base_url="https://api.bol.com"),
        ledger=LedgerConnection(system="asperion", base_url="https://asperion.nl"),
        active=False,
    )


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


async def shot(page: Page, name: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)


async def log_in(browser: Browser, url: str, email: str, **context: Any) -> Page:
    page = await (await browser.new_context(locale="nl-NL", **context)).new_page()
    await page.goto(f"{url}/login")
    await page.get_by_label("E-mailadres").fill(email)
    await page.get_by_label("Wachtwoord").fill(PASSWORD)
    await page.get_by_role("button", name="Inloggen").click()
    await expect(page.get_by_role("heading", name="Koppelingen")).to_be_visible()
    return page


async def until_shown(
    page: Page, url: str, text: str, where: str = "main", timeout: float = 60.0
) -> None:
    """Reload until `where` on the page shows `text` (the read models fill from Kafka)."""
    deadline = time.monotonic() + timeout
    while True:
        await page.goto(url)
        found = page.locator(where)
        if await found.count() and text in await found.first.inner_text():
            return
        assert time.monotonic() < deadline, f"{url} never showed {text!r} in {where}"
        await page.wait_for_timeout(500)

"""What `make run` prints once everything runs: where each part listens, how to log in to
the dashboard, and what to try next."""

from __future__ import annotations

from koppel_sandbox_bol import DEMO as BOL
from koppel_sandbox_octopus import DEMO
from koppel_sandbox_prestashop import DEMO_KEY
from koppel_sandbox_snelstart import DEMO as SNELSTART

from .bol import BOL_MERCHANT_EMAIL
from .config import Ports, SystemConfig
from .dashboard import DEMO_PASSWORD
from .demo_data import (
    ASPERION_BOOKKEEPING_EMAIL,
    ASPERION_CONNECTION_ID,
    MERCHANT_EMAIL,
    TEA_MERCHANT_EMAIL,
)
from .prestashop import PRESTASHOP_MERCHANT_EMAIL


def guide(config: SystemConfig, logins: list[tuple[str, str]]) -> str:
    p: Ports = config.ports
    url = config.url
    accounts = "\n".join(f"    {email:<30} {sees}" for email, sees in logins)
    return f"""
Koppel is running. Where everything listens:
  Kafka                {config.kafka_bootstrap}   (topics prefixed '{config.isolation}')
  MongoDB API          {config.mongodb_uri}
  CCV Shop sandboxes   {url(p.ccvshop)}/api/rest/v1 (coffee)
                       {url(p.ccvshop_tea)}/api/rest/v1 (tea)
                       {url(p.ccvshop_asperion)}/api/rest/v1 (chocolate)
                       (control API under /_control)
  PrestaShop sandbox   {url(p.prestashop)}/api/   (key {DEMO_KEY}, control API /_control)
  Bol.com sandbox      {url(p.bol)}/retailer   (token {url(p.bol)}/token, retailer
                       {BOL.retailer_id}, client id {BOL.client_id}; control API /_control)
  Octopus sandbox      {url(p.octopus)}   (dossiers {DEMO.dossier_id} coffee roaster,
                       {DEMO.second_dossier_id} PrestaShop and Bol.com merchants;
                       control API /_control)
  SnelStart sandbox    {url(p.snelstart)}/v2   ("{SNELSTART.main.naam}", control API /_control)
  ingest-ccv           {url(p.ingest_ccv)}   (/readyz, /metrics, webhooks under /webhooks/ccvshop/)
  ingest-prestashop    {url(p.ingest_prestashop)}   (/readyz, /metrics; polls the shop, no webhooks)
  ingest-bol           {url(p.ingest_bol)}   (/readyz, /metrics; polls Bol.com and
                       answers business buyers' invoice requests)
  ledger-octopus       {url(p.ledger_octopus)}
  ledger-snelstart     {url(p.ledger_snelstart)}
  ledger-asperion      {url(p.ledger_asperion)}   (deliveries: /deliveries/{ASPERION_CONNECTION_ID},
                       token "{config.asperion_operator_token}"; daily at 18:00)
  notifier             {url(p.notifier)}
  dashboard            {url(p.dashboard)}/login
  SMTP catcher         127.0.0.1:{p.smtp}   (mails for {MERCHANT_EMAIL},
                       {TEA_MERCHANT_EMAIL}, {ASPERION_BOOKKEEPING_EMAIL},
                       {PRESTASHOP_MERCHANT_EMAIL}, {BOL_MERCHANT_EMAIL}
                       and support: {config.mail_dir})
  logs                 {config.log_dir}

The dashboard ({url(p.dashboard)}/login), password "{DEMO_PASSWORD}" for every login:
{accounts}

Try it, in another terminal:
  ./scripts/uv run python -m koppel_demo order     # a customer pays an order in each shop
  ./scripts/uv run python -m koppel_demo invoices  # a second later: in Octopus, SnelStart
                                                   # and the chocolatier's UBL documents
                                                   # (PrestaShop, Bol.com: after their next poll)
  ./scripts/uv run python -m koppel_demo prestashop-edit    # the merchant edits an order
  ./scripts/uv run python -m koppel_demo prestashop-cancel  # ... or cancels it
  ./scripts/uv run python -m koppel_demo bol-cancel         # the Bol.com seller cancels one
  ./scripts/uv run python -m koppel_demo deliver   # the chocolatier's ZIP of the day, now
  ./scripts/uv run python -m koppel_demo mails     # e-mails to the merchants

Press Ctrl-C to stop."""

"""A local Octopus (octopus.be) Webservice REST API for Koppel's tests and demo.

state = OctopusState.demo()          # the DEMO software house, user and dossiers
app = create_app(state)              # Starlette app: the API + /_control
async with serve(app) as url, OctopusControl(url) as control: ...
"""

from koppel_sandbox_kit import ManualClock

from .app import API_BASE, create_app
from .control import OctopusControl
from .demo import DEMO, DemoIdentity
from .documents import InvoiceTotals, invoice_line_amounts
from .koppel_mapping import demo_booking, demo_octopus
from .state import TOKEN_TTL, OctopusState

__all__ = [
    "API_BASE",
    "DEMO",
    "TOKEN_TTL",
    "DemoIdentity",
    "InvoiceTotals",
    "ManualClock",
    "OctopusControl",
    "OctopusState",
    "create_app",
    "demo_booking",
    "demo_octopus",
    "invoice_line_amounts",
]

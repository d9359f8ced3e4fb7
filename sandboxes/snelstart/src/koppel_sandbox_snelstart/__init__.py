"""A local SnelStart B2B API v2 (token server + `/v2`) for Koppel's tests and demo.

state = SnelStartState.demo()        # the DEMO subscription key and administrations
app = create_app(state)              # Starlette app: /b2b/token, /v2/..., /_control/...
async with serve(app) as url, SnelStartControl(url) as control: ...
"""

from koppel_sandbox_kit import ManualClock

from .app import API_PREFIX, TOKEN_PATH, create_app
from .control import SnelStartControl
from .demo import DEMO, DemoAccount, DemoAdministration, DemoIdentity, demo_identity_json
from .koppel_mapping import demo_booking
from .limits import PRODUCTION_TIER, TEST_TIER, UNLIMITED, RateLimits
from .state import TOKEN_LIFETIME, SnelStartState

__all__ = [
    "API_PREFIX",
    "DEMO",
    "PRODUCTION_TIER",
    "TEST_TIER",
    "TOKEN_LIFETIME",
    "TOKEN_PATH",
    "UNLIMITED",
    "DemoAccount",
    "DemoAdministration",
    "DemoIdentity",
    "ManualClock",
    "RateLimits",
    "SnelStartControl",
    "SnelStartState",
    "create_app",
    "demo_booking",
    "demo_identity_json",
]

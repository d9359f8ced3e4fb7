"""A faithful local Bol.com Retailer API v10 for Koppel's tests and demo."""

from .app import create_app
from .client import BolControl, BolJson, Credentials
from .demo import DEMO, DEMO_PRODUCTS, demo_account
from .problems import RESPONSE_TYPE, VENDOR_TYPE
from .state import BolState, Config
from .timefmt import ManualClock

__all__ = [
    "DEMO",
    "DEMO_PRODUCTS",
    "RESPONSE_TYPE",
    "VENDOR_TYPE",
    "BolControl",
    "BolJson",
    "BolState",
    "Config",
    "Credentials",
    "ManualClock",
    "create_app",
    "demo_account",
]

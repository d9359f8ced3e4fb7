"""A faithful local PrestaShop 1.7 / 8.x Webservice API for Koppel's tests and demo."""

from .app import create_app
from .client import PrestaShopControl
from .demo import DEMO_KEY, demo_shop
from .state import Config, PrestaShopState

__all__ = ["DEMO_KEY", "Config", "PrestaShopControl", "PrestaShopState", "create_app", "demo_shop"]

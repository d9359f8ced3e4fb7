"""A faithful local CCV Shop REST API for Koppel's tests and demo."""

from .app import create_app
from .client import ApiKey, CcvJson, CcvShopControl
from .signing import request_signature, signed_headers, webhook_signature
from .state import CcvShopState

__all__ = [
    "ApiKey",
    "CcvJson",
    "CcvShopControl",
    "CcvShopState",
    "create_app",
    "request_signature",
    "signed_headers",
    "webhook_signature",
]

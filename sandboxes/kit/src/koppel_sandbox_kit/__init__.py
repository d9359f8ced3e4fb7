"""Plumbing shared by Koppel's external-API sandboxes (see README.md).

`koppel_sandbox_kit.koppel_options` (demo booking options) imports koppel_contracts and is
imported on its own."""

from .clock import Clock, ManualClock, utcnow, utcnow_seconds
from .control_api import (
    ControlApi,
    ControlRefusal,
    ErrorStatus,
    Handler,
    RouteSpec,
    typed_text,
)
from .control_client import CONTROL_PREFIX, ControlClient, ControlError, JsonCodec, SeededControl
from .faults import FaultInjector, FaultMiddleware, FaultRule, fault_routes
from .jsonio import DecimalJson, at_least_cents, exact_digits, python_float, shortest
from .money import CENT, round_cents
from .ratelimit import FixedWindowLimiter, Verdict
from .seeded import SeededState
from .server import free_port, run, running_uvicorn, serve
from .testing import ServedSandbox, served_sandbox
from .tls import (
    NOT_FOUND_PATH,
    SelfSignedCertificate,
    TlsServer,
    html_page_app,
    redirect_app,
    self_signed_certificate,
    serve_tls,
)

__all__ = [
    "CENT",
    "CONTROL_PREFIX",
    "NOT_FOUND_PATH",
    "Clock",
    "ControlApi",
    "ControlClient",
    "ControlError",
    "ControlRefusal",
    "DecimalJson",
    "ErrorStatus",
    "FaultInjector",
    "FaultMiddleware",
    "FaultRule",
    "FixedWindowLimiter",
    "Handler",
    "JsonCodec",
    "ManualClock",
    "RouteSpec",
    "SeededControl",
    "SeededState",
    "SelfSignedCertificate",
    "ServedSandbox",
    "TlsServer",
    "Verdict",
    "at_least_cents",
    "exact_digits",
    "fault_routes",
    "free_port",
    "html_page_app",
    "python_float",
    "redirect_app",
    "round_cents",
    "run",
    "running_uvicorn",
    "self_signed_certificate",
    "serve",
    "serve_tls",
    "served_sandbox",
    "shortest",
    "typed_text",
    "utcnow",
    "utcnow_seconds",
]

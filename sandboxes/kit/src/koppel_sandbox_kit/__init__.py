"""Plumbing shared by Koppel's external-API sandboxes."""

from .faults import FaultInjector, FaultMiddleware, FaultRule, fault_routes
from .ratelimit import FixedWindowLimiter, Verdict
from .server import free_port, run, serve
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
    "NOT_FOUND_PATH",
    "FaultInjector",
    "FaultMiddleware",
    "FaultRule",
    "FixedWindowLimiter",
    "SelfSignedCertificate",
    "TlsServer",
    "Verdict",
    "fault_routes",
    "free_port",
    "html_page_app",
    "redirect_app",
    "run",
    "self_signed_certificate",
    "serve",
    "serve_tls",
]

"""Plumbing shared by Koppel's external-API sandboxes."""

from .faults import FaultInjector, FaultMiddleware, FaultRule, fault_routes
from .ratelimit import FixedWindowLimiter, Verdict
from .server import free_port, run, serve

__all__ = [
    "FaultInjector",
    "FaultMiddleware",
    "FaultRule",
    "FixedWindowLimiter",
    "Verdict",
    "fault_routes",
    "free_port",
    "run",
    "serve",
]

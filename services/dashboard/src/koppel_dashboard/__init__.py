"""Koppel dashboard: the merchant's and support's web UI, fed from Kafka into its own read
models; it acts only through commands."""

from .app import build
from .settings import DashboardSettings

__all__ = ["DashboardSettings", "build"]

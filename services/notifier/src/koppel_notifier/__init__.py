"""Koppel notifier: e-mails merchants about mismatches, persistent failures and broken
connections — one mail per cause, grouped per connection, never lost, never twice."""

from .app import build
from .settings import NotifierSettings

__all__ = ["NotifierSettings", "build"]

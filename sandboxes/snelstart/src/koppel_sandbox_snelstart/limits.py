"""Per-administration rate limits of the APIM gateway (notes §11).

The test tier ("Ontwikkeling & Test") allows 100 calls per minute, 1 000 per hour and 5
concurrent calls per administration; Maatwerk/Productie 500 / 5 000 / 50. Over a limit the
gateway answers 429 with `Retry-After` (seconds) and `{"statusCode": 429, "message": ...}`.
Windows are fixed (the kit's `FixedWindowLimiter`) and run on the sandbox clock, so a test
moves past them with `ManualClock.advance(minutes=1)`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from koppel_sandbox_kit import FixedWindowLimiter

from .errors import ApiError


@dataclass(frozen=True)
class RateLimits:
    per_minute: int | None = 100
    per_hour: int | None = 1000
    concurrent: int | None = 5


TEST_TIER = RateLimits()
PRODUCTION_TIER = RateLimits(500, 5000, 50)
UNLIMITED = RateLimits(None, None, None)


def _retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))


def too_many(seconds: float) -> ApiError:
    after = _retry_after(seconds)
    return ApiError.gateway(
        429, f"Rate limit is exceeded. Try again in {after} seconds.", {"Retry-After": after}
    )


class AdministrationLimiter:
    """The windows and the in-flight count of one administration."""

    def __init__(self, limits: RateLimits, clock: Callable[[], float]) -> None:
        self.limits = limits
        self.minute = FixedWindowLimiter(limits.per_minute or 0, 60, clock)
        self.hour = FixedWindowLimiter(limits.per_hour or 0, 3600, clock)
        self.in_flight = 0

    def admit(self, key: str) -> None:
        """Count one call, or raise the 429 the gateway would give."""
        if self.limits.per_minute is not None:
            verdict = self.minute.hit(key)
            if not verdict.allowed:
                raise too_many(verdict.reset_seconds)
        if self.limits.per_hour is not None:
            verdict = self.hour.hit(key)
            if not verdict.allowed:
                raise too_many(verdict.reset_seconds)

    def enter(self) -> None:
        """Take a concurrency slot (APIM `limit-concurrency`: no queueing, straight 429)."""
        if self.limits.concurrent is not None and self.in_flight >= self.limits.concurrent:
            raise too_many(1)
        self.in_flight += 1

    def leave(self) -> None:
        self.in_flight -= 1

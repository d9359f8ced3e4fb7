"""Query and body validation that collects every violation before answering 400,
with bol's reason texts where they are known (the spec's Violation example)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from starlette.datastructures import QueryParams

from .problems import bad_request, violation


def invalid_value(value: Any, allowed: Sequence[str]) -> str:
    return f"Request contains invalid value(s): '{value}', allowed values: {', '.join(allowed)}."


class Checks:
    """Violations of one request; `raise_if_any()` turns them into the 400 problem."""

    def __init__(self) -> None:
        self.violations: list[dict[str, str]] = []

    def add(self, name: str, reason: str) -> None:
        self.violations.append(violation(name, reason))

    def raise_if_any(self) -> None:
        if self.violations:
            raise bad_request(self.violations)

    def enum(self, name: str, value: Any, allowed: Sequence[str]) -> str | None:
        if value is None:
            return None
        if value not in allowed:
            self.add(name, invalid_value(value, allowed))
            return None
        return str(value)

    def integer(
        self,
        name: str,
        value: Any,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool):
            number = None
        elif isinstance(value, int):
            number = value
        else:
            try:
                number = int(str(value), 10)
            except ValueError:
                number = None
        if number is None:
            self.add(name, f"Request contains invalid value(s): '{value}'. A number is required.")
            return None
        if minimum is not None and number < minimum:
            self.add(name, f"must be greater than or equal to {minimum}")
            return None
        if maximum is not None and number > maximum:
            self.add(name, f"must be less than or equal to {maximum}")
            return None
        return number


class Query(Checks):
    def __init__(self, params: QueryParams) -> None:
        super().__init__()
        self.params = params

    def text(self, name: str) -> str | None:
        return self.params.get(name)

    def choice(self, name: str, allowed: Sequence[str], default: str | None) -> str | None:
        value = self.params.get(name)
        if value is None:
            return default
        return self.enum(name, value, allowed) or default

    def number(
        self,
        name: str,
        default: int | None,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int | None:
        value = self.params.get(name)
        if value is None:
            return default
        number = self.integer(name, value, minimum=minimum, maximum=maximum)
        return default if number is None else number

    def flag(self, name: str) -> bool | None:
        value = self.params.get(name)
        if value is None:
            return None
        if value.lower() not in ("true", "false"):
            self.add(name, invalid_value(value, ("true", "false")))
            return None
        return value.lower() == "true"

    def day(self, name: str) -> date | None:
        value = self.params.get(name)
        if value is None:
            return None
        try:
            if len(value) != len("yyyy-mm-dd"):
                raise ValueError(value)  # fromisoformat also takes 20260316
            return date.fromisoformat(value)
        except ValueError:
            self.add(
                name, f"Request contains invalid value(s): '{value}'. Use the format yyyy-MM-dd."
            )
            return None

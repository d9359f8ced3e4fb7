"""JSON in and out without a binary float anywhere.

Octopus takes and returns money as JSON *numbers*. Inside the sandbox every
number with a fraction is a `Decimal`, and on the way out a `Decimal` is written
as a plain JSON number with at least two decimals (`64.9` -> `64.90`, `1` as
Decimal -> `1.00`); values that carry more precision (an exchange rate of
`1.0845`, a unit price of `0.3333`) keep it (the kit's `at_least_cents`).
Integers stay integers.
"""

from __future__ import annotations

from koppel_sandbox_kit import DecimalJson, at_least_cents

OCTOPUS_JSON = DecimalJson(at_least_cents)
dumps = OCTOPUS_JSON.dumps
loads = OCTOPUS_JSON.loads

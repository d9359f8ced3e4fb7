"""JSON in and out without a binary float anywhere.

SnelStart (.NET `decimal`) takes money as JSON numbers *or* decimal strings and
answers with numbers, echoing the scale it stored (`5505.8000` is possible,
notes §3). Inside the sandbox every JSON number with a fraction is a `Decimal`;
on the way out a `Decimal` is written as a plain JSON number with exactly the
digits it holds (the kit's `exact_digits`). Integers stay integers.
"""

from __future__ import annotations

from koppel_sandbox_kit import DecimalJson, exact_digits

SNELSTART_JSON = DecimalJson(exact_digits)
dumps = SNELSTART_JSON.dumps
loads = SNELSTART_JSON.loads

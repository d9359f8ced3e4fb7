"""JSON as bol writes it: amounts as plain JSON numbers (`12.99`, `590`), as PHP's
json_encode writes a float (the kit's `shortest`), never strings; request bodies parsed
without ever turning an amount into a binary float. NaN and Infinity pass as Python's json
lets them (as they always did here)."""

from __future__ import annotations

from koppel_sandbox_kit import DecimalJson, python_float, shortest

BOL_JSON = DecimalJson(shortest, float_text=python_float, allow_nan=True)
dumps = BOL_JSON.dumps
loads = BOL_JSON.loads

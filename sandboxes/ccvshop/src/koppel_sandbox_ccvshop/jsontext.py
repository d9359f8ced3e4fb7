"""JSON the way CCV Shop writes it: money as plain JSON numbers (`590`, `102.4`), as PHP's
json_encode writes a float (the kit's `shortest`). Request bodies are parsed without ever
turning an amount into a binary float; NaN and Infinity read as Python's json reads them."""

from __future__ import annotations

from koppel_sandbox_kit import DecimalJson, python_float, shortest

CCV_JSON = DecimalJson(shortest, float_text=python_float, allow_nan=True)
dumps = CCV_JSON.dumps
loads = CCV_JSON.loads

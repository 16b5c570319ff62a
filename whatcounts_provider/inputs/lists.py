"""The ``phones`` and ``rows`` input forms: lists (or their rendered text) as rows."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from whatcounts_provider.exceptions import WhatCountsInputError
from whatcounts_provider.inputs.form import ABSENT, INPUT_KEYS
from whatcounts_provider.inputs.stream import make_row
from whatcounts_provider.types import Row, json_safe

_NATIVE_HINT = (
    "pass a list: give the upstream task's output directly ({name}=upstream.output) or set "
    "render_template_as_native_obj=True on the DAG so Jinja returns a list, not its text"
)


def coerce_list(value: Any, name: str) -> list[Any]:
    """A list/tuple/other iterable as a list, or the text of a JSON array / Python list literal.

    :raises WhatCountsInputError: (a ``TypeError``) for a mapping, bytes, a non-iterable, or text
        that is not a list.
    """
    hint = _NATIVE_HINT.format(name=name)
    if isinstance(value, str):
        parsed = _parse_list_text(value)
        if parsed is None:
            raise WhatCountsInputError(
                f"{name} was rendered as a string that is not a JSON array or list literal "
                f"({len(value)} characters); {hint}"
            )
        return parsed
    if isinstance(value, (bytes, Mapping)) or not isinstance(value, Iterable):
        what = "phone numbers" if name == "phones" else "mappings"
        raise WhatCountsInputError(f"{name} must be a list of {what}, got {type(value).__name__}; {hint}")
    return list(value)


def rows_given(rows: Any) -> Iterable[Any]:
    """``rows`` as given when it is a list or any other iterable (read lazily), else its list text."""
    if isinstance(rows, (str, bytes, Mapping)) or not isinstance(rows, Iterable):
        return coerce_list(rows, "rows")  # raises for everything but list text
    given: Iterable[Any] = rows
    return given


def _parse_list_text(text: str) -> list[Any] | None:
    stripped = text.strip()
    if not stripped.startswith("["):
        return None
    try:
        parsed = json.loads(stripped)
    except ValueError:
        try:
            parsed = ast.literal_eval(stripped)  # literals only: never evaluates code
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return None
    return parsed if isinstance(parsed, list) else None


def phone_rows(phones: list[Any], sender_code: Any) -> Iterator[Row]:
    """One row per phone, each with ``sender_code``."""
    for number, phone in enumerate(phones, start=1):
        yield Row(number, json_safe(phone), phone, sender_code)


def mapping_rows(items: Iterable[Any], default_code: Any) -> Iterator[Row]:
    """One row per mapping (its input keys); anything else is an invalid row."""
    for number, item in enumerate(items, start=1):
        safe = json_safe(item)
        if not isinstance(item, Mapping):
            error = f"row {number} is {_a(item)}, not a mapping with 'phone' and 'sender_code'"
            yield Row(number, safe, None, default_code, error=error)
            continue
        yield make_row(number, safe, [item.get(key, ABSENT[key]) for key in INPUT_KEYS], default_code)


def _a(value: Any) -> str:
    if value is None:
        return "null"
    name = type(value).__name__
    return f"an {name}" if name[:1] in "aeiou" else f"a {name}"

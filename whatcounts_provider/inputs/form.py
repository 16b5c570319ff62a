"""The input keys and forms of a bulk run, and the checks that need no rendering.

An input key is a field a row may carry (``phone``, ``sender_code``, ``requested_at``,
``message``, ``message_id``). Adding
one means adding it to :data:`INPUT_KEYS` and to :class:`whatcounts_provider.types.Row`; the
readers of every form (lists of mappings, CSV columns, JSON Lines keys) and the ``columns``
check take their keys from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from whatcounts_provider.exceptions import WhatCountsInputError
from whatcounts_provider.types import NO_MESSAGE

#: The fields of a row, in the order of :class:`~whatcounts_provider.types.Row`.
INPUT_KEYS: tuple[str, ...] = ("phone", "sender_code", "requested_at", "message", "message_id")

#: What a key that a row lacks reads as. A row without a message key is no reply at all (an
#: opt-out request as it stands), which is not the same as an empty reply (``not_opt_out``).
ABSENT: dict[str, Any] = {key: NO_MESSAGE if key == "message" else None for key in INPUT_KEYS}

#: How a run's rows were given: the bulk operator's three arguments, or messages from a queue.
InputForm = Literal["phones", "rows", "source", "queue"]


def check_input_form(
    *,
    phones: Any = None,
    rows: Any = None,
    source: Any = None,
    sender_code: Any = None,
    columns: Any = None,
) -> InputForm:
    """Check the combination of the bulk operator's input arguments; return the form in use.

    Only ``None``-ness and ``columns`` are checked, so this works in an operator's ``__init__`` on
    unrendered templates and XComArgs, and again once they are rendered.

    :raises WhatCountsInputError: not exactly one of ``phones``, ``rows``, ``source``;
        ``phones`` without ``sender_code``; ``columns`` without ``source``; unknown
        ``columns`` keys or non-text column names.
    """
    forms = (("phones", phones), ("rows", rows), ("source", source))
    given = [name for name, value in forms if value is not None]
    if len(given) != 1:
        which = "none of them was" if not given else f"{' and '.join(given)} were"
        raise WhatCountsInputError(
            f"give exactly one of phones (with sender_code), rows or source; {which} given"
        )
    form: InputForm = given[0]  # type: ignore[assignment]
    if form == "phones" and sender_code is None:
        raise WhatCountsInputError(
            "phones needs sender_code (every phone is stopped on that code); to give each phone its "
            "own sender code use rows=[{'phone': ..., 'sender_code': ...}] or source="
        )
    if columns is not None:
        if form != "source":
            raise WhatCountsInputError(
                f"columns renames the columns of a source file; it cannot be used with {form}"
            )
        check_columns(columns)
    return form


def check_columns(columns: Any) -> dict[str, str]:
    """``columns`` with its names stripped, once checked: a mapping of input keys to non-empty text.

    :raises WhatCountsInputError: not a mapping, an unknown key, or a name that is not text.
    """
    if not isinstance(columns, Mapping):
        raise WhatCountsInputError(
            f"columns must be a mapping such as {{'phone': 'Mobile'}}, got {type(columns).__name__}"
        )
    unknown = sorted(str(key) for key in columns if key not in INPUT_KEYS)
    if unknown:
        raise WhatCountsInputError(
            f"columns has unknown key(s) {', '.join(map(repr, unknown))}; "
            f"its keys may only be {', '.join(map(repr, INPUT_KEYS))}"
        )
    for key, name in columns.items():
        if not isinstance(name, str) or not name.strip():
            raise WhatCountsInputError(
                f"columns[{key!r}] must be the file's column name as non-empty text, got {name!r}"
            )
    return {key: name.strip() for key, name in columns.items()}


def check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    """Check an operator argument that takes one of a few values (``scope``, ``ambiguous``).

    :raises WhatCountsInputError: ``value`` is not one of ``choices`` (naming ``name``).
    """
    if value not in choices:
        listed = " or ".join(repr(choice) for choice in choices)
        raise WhatCountsInputError(f"{name} must be {listed}, got {value!r}")

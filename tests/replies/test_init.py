"""The package's public names and its docstring example (whatcounts_provider.replies)."""

from __future__ import annotations

import doctest

import whatcounts_provider.replies as replies


def test_every_public_name_resolves():
    assert all(getattr(replies, name) is not None for name in replies.__all__)
    assert replies.DECISIONS == ("opt_out", "ambiguous", "not_opt_out")
    assert isinstance(replies.FCC_PER_SE_WORDS, tuple)


def test_the_docstring_example_runs():
    result = doctest.testmod(replies, verbose=False)
    assert (result.failed, result.attempted) == (0, 5)

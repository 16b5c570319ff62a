"""Fixtures of the emulator's own tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.helpers import SENDER
from tests.testing.emulator_client import PHONE10

if TYPE_CHECKING:
    from whatcounts_provider.testing.emulator import WhatCountsEmulator


@pytest.fixture
def subscribed_emulator(whatcounts_emulator: WhatCountsEmulator) -> WhatCountsEmulator:
    """The plugin's emulator with PHONE subscribed to SENDER."""
    whatcounts_emulator.subscribe(SENDER, [PHONE10])
    return whatcounts_emulator

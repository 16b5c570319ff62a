"""Fixtures of the security suite: an emulator with unique credentials, a throwaway TLS CA."""

from __future__ import annotations

import ssl
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest
import trustme

from tests.security.helpers import S_PASSWORD, S_REALM
from whatcounts_provider.testing.emulator import WhatCountsEmulator

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def unique_secrets_emulator() -> Iterator[WhatCountsEmulator]:
    """An emulator whose realm and password are this suite's unique strings (S_REALM, S_PASSWORD)."""
    with WhatCountsEmulator(S_REALM, S_PASSWORD) as running:
        yield running


@pytest.fixture
def tls(tmp_path: Any, no_ca_bundle_env: None) -> SimpleNamespace:
    """A throwaway CA, a server context with a certificate for 127.0.0.1, and the CA bundle file."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    return SimpleNamespace(context=context, bundle=str(bundle))


@pytest.fixture
def https(tls: SimpleNamespace) -> Iterator[WhatCountsEmulator]:
    """The emulator serving HTTPS on 127.0.0.1 with ``tls``'s certificate (S_REALM / S_PASSWORD)."""
    with WhatCountsEmulator(S_REALM, S_PASSWORD, ssl_context=tls.context) as server:
        yield server

"""The request path of one connection: send an attempt, retry it, read the final answer.

Everything here takes its parts explicitly (settings, session, retry policy, cancel flag), so the
hook only wires them. ``requests`` is met in one function, :meth:`Client.attempt`: the retry
loop sees :class:`~whatcounts_provider.hooks._answers.Reply` and
:class:`~whatcounts_provider.exceptions.TransientError`, never a ``requests`` object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import requests

from whatcounts_provider.exceptions import (
    TransientError,
    WhatCountsApiError,
    WhatCountsCancelledError,
    WhatCountsTransportError,
)
from whatcounts_provider.hooks._answers import Reply, parse_answer
from whatcounts_provider.hooks._retry import FinalAnswer, RetryPolicy, Tally
from whatcounts_provider.hooks._session import describe_transport_error
from whatcounts_provider.phone import mask_phone

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable

    from whatcounts_provider.hooks._throttle import Throttle
    from whatcounts_provider.types import WhatCountsSettings


@dataclass(frozen=True)
class Client:
    """Send WhatCounts requests over ``session`` with ``policy``'s retries.

    :param secrets: strings no exception may contain (password, Basic token, API key).
    :param throttle: builds an unlimited throttle for calls that bring none.
    """

    settings: WhatCountsSettings
    session: requests.Session
    policy: RetryPolicy
    cancelled: threading.Event
    secrets: tuple[str, ...] = field(repr=False)
    throttle: Callable[[], Throttle]

    def stop(self, phone: str, code: str, *, throttle: Throttle, tally: Tally) -> dict[str, Any]:
        """``POST /sms/stopSubscriberSend/<phone>/<code>``: both already valid; WhatCounts' record."""
        path = f"/sms/stopSubscriberSend/{quote(phone, safe='')}/{quote(code, safe='')}"
        body = self.parse(
            self.call("POST", path, label=lambda: stop_label(phone, code), throttle=throttle, tally=tally)
        )
        if not isinstance(body, dict):
            raise WhatCountsApiError(f"expected a JSON object, got {type(body).__name__}", status_code=200)
        return body

    def parse(self, answer: FinalAnswer) -> Any:
        """The answer's JSON, or the typed exception it stands for."""
        return parse_answer(
            answer.reply,
            conn_id=self.settings.conn_id,
            realm=self.settings.realm,
            secrets=self.secrets,
            gave_up_after=answer.gave_up_after,
            api_key_set=self.settings.api_key is not None,
        )

    def call(
        self,
        method: str,
        path: str,
        *,
        label: Callable[[], str],
        throttle: Throttle | None = None,
        tally: Tally | None = None,
        attempts: int | None = None,
    ) -> FinalAnswer:
        """Send one logical request, retrying transient failures; return the final answer.

        :param label: builds the masked description used in retry logs and errors (only then).
        :param tally: counts the HTTP attempts of this request, retries included.
        :param attempts: overrides the connection's retry budget (``test_connection`` uses 1).
        :raises WhatCountsTransportError: no answer came, after the last attempt.
        :raises WhatCountsCircuitOpenError: the run's circuit breaker is open: not sent (again).
        """
        tally = tally or Tally()
        url = self.settings.base_url + path
        try:
            return self.policy.send(
                lambda: self.attempt(method, url, label),
                throttle=throttle or self.throttle(),
                label=label,
                tally=tally,
                attempts=attempts,
            )
        except TransientError as exc:
            said = f"{label()}: {self.describe(exc.cause)}"
            # The count says the retries are spent; a single attempt (a TLS failure is never
            # retried, the Test button tries once) has nothing to add.
            if tally.attempts > 1:
                said += f"; gave up after {tally.attempts} attempt(s)"
            raise WhatCountsTransportError(said) from None

    def attempt(self, method: str, url: str, label: Callable[[], str]) -> Reply:
        """One HTTP exchange; a network failure becomes :class:`TransientError`."""
        if self.cancelled.is_set():
            raise WhatCountsCancelledError(f"{label()}: cancelled before it was sent")
        settings = self.settings
        try:
            # verify is passed per request: requests would otherwise let REQUESTS_CA_BUNDLE or
            # CURL_CA_BUNDLE from the environment override the connection's setting.
            response = self.session.request(
                method,
                url,
                timeout=(settings.connect_timeout, settings.read_timeout),
                allow_redirects=False,
                verify=settings.verify,
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise transient(exc) from exc
        return Reply.of(response)

    def describe(self, exc: BaseException) -> str:
        """A network failure, said safely (no URL path: it holds the phone)."""
        return describe_transport_error(exc, self.settings)


def transient(exc: requests.ConnectionError | requests.Timeout) -> TransientError:
    """A network failure as the retry loop sees it. A TLS failure (an ``SSLError``, itself a
    ``ConnectionError``) is permanent: a certificate does not fix itself between attempts."""
    return TransientError(exc, permanent=isinstance(exc, requests.exceptions.SSLError))


def stop_label(phone: str, code: str) -> str:
    """How logs and errors name one stop request (the phone masked)."""
    return f"STOP for phone {mask_phone(phone)} on sender code {code}"

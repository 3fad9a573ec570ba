"""A pytest plugin with the ``ocpi_mock_peer`` fixture: enable it in your ``conftest.py`` with

    pytest_plugins = ["generator.mockpeer.pytest_plugin"]

and use it as a factory; each peer is served on 127.0.0.1 until the test ends::

    def test_my_client_retries(ocpi_mock_peer):
        peer = ocpi_mock_peer("2.2.1", "cpo")          # a CPO with 12 objects per list
        peer.faults.set(status_5xx=503, every=2)        # every second request fails
        client = MyClient(peer.versions_url, token=peer.token)
        ...
        peer.faults.clear()

``ocpi_mock_peer(version, role, *, extensions=None, **kwargs)`` passes ``kwargs`` on to
``generator.mockpeer.build_mock_peer`` (count, token, token_a, faults, settings, package).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from generator.mockpeer.peer import MockPeer, build_mock_peer


@pytest.fixture
def ocpi_mock_peer() -> Iterator[Callable[..., MockPeer]]:
    from generator.paths import SPEC_ROOT
    from generator.pipeline import load_spec

    with ExitStack() as stack:

        def start(version: str, role: str, *, extensions: list[str] | None = None, **kwargs: Any) -> MockPeer:
            spec = load_spec(SPEC_ROOT, version, extensions=extensions)
            return stack.enter_context(build_mock_peer(spec, role, **kwargs).serve())

        yield start

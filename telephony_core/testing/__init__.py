"""The conformance suite every provider runs (needs the ``testing`` extra).

A provider package proves it keeps the contract with a few lines::

    from telephony_core.testing import ProviderConformance

    class TestYeastarConformance(ProviderConformance):
        provider = "yeastar"

See ``docs/conformance.md`` for the properties and ``docs/plugin-guide.md`` for writing a
provider. Names are imported lazily: the pytest plugin (:mod:`.plugin`) is loaded by every pytest
run and must stay cheap, and it lives in this package.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "CAPABILITY_SUITES",
    "Correction",
    "DocumentedTests",
    "EquivalenceTests",
    "FaultTests",
    "OutcomeTests",
    "ProviderConformance",
    "ProviderFixtures",
    "StaticTests",
    "UnsupportedTests",
    "ValidationTests",
    "VendorSpec",
    "VendorSpecTests",
    "invalid_payloads",
    "payloads",
    "run_suite",
]

_WHERE = {
    "invalid_payloads": "strategies",
    "payloads": "strategies",
    "run_suite": "runner",
    "ProviderFixtures": "base",
    "VendorSpec": "spec_evidence",
    "Correction": "spec_evidence",
}


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f".{_WHERE.get(name, 'suite')}", __name__)
    return getattr(module, name)

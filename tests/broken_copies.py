"""Deliberately broken copies of the example provider, for tests that prove the conformance kit
catches them: one place to build a copy and to register it for the length of a test."""

from __future__ import annotations

from telephony_example.emulator import ExampleEmulator
from telephony_example.spec import SPEC as EXAMPLE

import telephony_core
from telephony_core.provider import ProviderSpec


def copy_of_example(name: str, implementation: type, emulator: type = ExampleEmulator, *,
                    package: str = "telephony_example",
                    operations: dict | None = None) -> ProviderSpec:
    """The example's spec under another name, with a broken implementation, emulator or
    schema (registered in-process with :func:`register`, never installed; the ``registered``
    fixture of conftest.py unregisters it after the test)."""

    class Emulator(emulator):  # type: ignore[valid-type, misc]
        def connect_url(self, base_url: str) -> str:
            return super().connect_url(base_url).replace("example://", f"{name}://")

    return ProviderSpec(
        name=name, title=f"broken copy of the example ({name})", package=package,
        implementation=implementation, operations=operations or dict(EXAMPLE.operations),
        config_schema=EXAMPLE.config_schema, events=EXAMPLE.events, plugin_api=EXAMPLE.plugin_api,
        emulator=lambda pbx=None, password="x": Emulator(pbx, password=password))


def register(names: list[str], spec: ProviderSpec) -> None:
    telephony_core.register(spec, replace=True)
    names.append(spec.name)

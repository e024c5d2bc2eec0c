"""Where the suite reads the selected profile: the pytest plugin itself lives in the top-level
module :mod:`telephony_core_pytest`, outside this package, so that loading it (every pytest run
does) imports nothing from telephony_core."""

from __future__ import annotations

from typing import Any

import telephony_core_pytest as _plugin

__all__ = ["PROFILE_NAMES"]  # and selected_profile, read through to the plugin

PROFILE_NAMES = _plugin.PROFILE_NAMES


def __getattr__(name: str) -> Any:
    if name == "selected_profile":
        return _plugin.selected_profile
    raise AttributeError(name)

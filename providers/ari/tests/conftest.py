"""Let the tests import their helpers (ari_helpers, swagger) from this folder; the ``emu``
fixture: a fresh emulated ARI with a client."""

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from ari_helpers import ari


@pytest.fixture
def emu() -> Iterator[Any]:
    with ari() as running:
        yield running

"""Every Python snippet on the user pages runs, as a user would paste it.

Each ```python block of the pages below is run in a fresh interpreter with no TELEPHONY_*
variables set. Snippets written for a real system connect to ``pbx.example``; the test swaps
that URL for a Yeastar emulator served on 127.0.0.1, so the rest of the snippet runs for real.
A page added to the user docs with Python in it belongs in PAGES (or runs in a test of its own,
as docs/emulate.md and docs/providers/sim.md do). A fragment that cannot run on its own (it needs
the reader's PBX) is written ``{code-block} python`` and says so.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["README.md", "docs/installation.md", "docs/quickstart.md", "docs/webhooks.md",
         "docs/troubleshooting.md", "docs/concepts.md", "docs/configuration.md"]
FENCE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
REAL_URL = re.compile(r"yeastar://[^\"']*pbx\.example[^\"']*")


def snippets(page: str) -> list[str]:
    return [m.group(1) for m in FENCE.finditer((ROOT / page).read_text())]


def test_the_pages_hold_snippets():
    assert [page for page in PAGES if not snippets(page)] == []


@pytest.mark.parametrize("page", PAGES)
def test_the_snippets_of_a_page_run_in_order(page, yeastar_url, tmp_path):
    """A page's snippets run one after the other in one interpreter, as a reader pasting them
    into one session would (a later snippet may use what an earlier one imported)."""
    code = "\n".join(REAL_URL.sub(yeastar_url, block) for block in snippets(page))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEPHONY_")}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"a snippet of {page} failed:\n{code}\n{done.stderr}"

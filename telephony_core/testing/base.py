"""The fixtures base of the conformance suite: which provider, how to start it, what to send.

A provider's test module subclasses :class:`~telephony_core.testing.ProviderConformance` (or a
few property mixins plus :class:`ProviderFixtures`) and sets ``provider``; everything else has
a default. Every test gets a *fresh* emulator (a new model in its default set-up), so tests
are independent and a fault run can be compared with a clean baseline.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar

import attrs
import pytest

from .. import registry
from ..catalogue import OPERATIONS
from ..client import Client
from ..errors import TelephonyError
from ..provider import ProviderSpec
from ..redaction import Secret
from .clients import connect_kind
from .ids import result_ids_problem

__all__ = ["Outcome", "ProviderFixtures", "Session", "run"]

#: (provider, fixtures class) -> addresses read from the emulator's model
_DERIVED: dict[tuple[str, type], tuple[str, ...]] = {}

#: A sample payload: the payload itself, or ``prepare(session) -> payload`` that first puts the
#: emulator in the state the operation needs (places a call to hold, say) through the client.
Sample = Mapping[str, Any] | Callable[["Session"], Mapping[str, Any]]


@attrs.define
class Session:
    """A provider under test: its client, and (for HTTP providers) its emulator server and app.

    ``server`` is None for in-process providers (``sim``), which have no wire to watch.
    """

    name: str
    client: Client
    server: Any = None
    app: Any = None
    #: which client drives it: "sync" (connect) or "async" (connect_async, see .clients)
    kind: str = "sync"

    @property
    def pbx(self) -> Any:
        """The call model behind the emulator (or the in-process provider), when it has one."""
        for owner in (self.app, self.client.provider):
            model = getattr(owner, "pbx", None)
            if model is not None:
                return model
        return None

    @property
    def attempts(self) -> int:
        """Requests that reached the emulator, even those a fault dropped unread."""
        return self.server.attempts if self.server is not None else 0

    def secrets(self) -> set[str]:
        """Every secret the client knows now: configured ones and those learnt at run time."""
        found = {v.reveal() for v in self.client.config.values() if isinstance(v, Secret)}
        found.update(getattr(self.client.provider, "_secrets", ()) or ())
        return {s for s in found if s and len(s) >= 4}


@attrs.frozen
class Outcome:
    """What one invocation ended in: a result, or an exception (any exception)."""

    result: Any = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def describe(self) -> str:
        if self.error is None:
            return f"result {self.result!r}"
        return f"{type(self.error).__name__}: {self.error}"


def run(session: Session, op: str, payload: Mapping[str, Any]) -> Outcome:
    """Invoke ``op`` and keep whatever happens (tests decide what was allowed)."""
    try:
        return Outcome(result=session.client.invoke(op, dict(payload)))
    except Exception as exc:  # the suite judges every exception, so it catches them all
        return Outcome(error=exc)


def check_result(spec: ProviderSpec, op: str, outcome: Outcome) -> str | None:
    """Why ``outcome`` breaks the outcome contract of ``op`` (None when it keeps it), the Ids
    contract of the call ids it returns included."""
    definition = OPERATIONS[op]
    if outcome.error is not None:
        if isinstance(outcome.error, TelephonyError):
            return None
        return (f"raised {type(outcome.error).__name__}: {outcome.error} (only TelephonyError "
                "subclasses may escape the facade)")
    result = outcome.result
    if definition.returns_list:
        if not isinstance(result, list) or not all(
                isinstance(item, definition.result) for item in result):
            return f"returned {result!r}: expected a list of {definition.result.__name__}"
        return result_ids_problem(result)
    if not isinstance(result, definition.result):
        return f"returned {result!r}: expected a {definition.result.__name__}"
    if hasattr(result, "provider") and result.provider != spec.name:
        return f"returned a result naming provider {result.provider!r}, not {spec.name!r}"
    return result_ids_problem(result)


#: the properties that run through both clients (parametrized by ``client_kind``)
BOTH_CLIENTS = frozenset({"test_fault", "test_valid_payloads_end_in_result_or_typed_error"})


@attrs.frozen
class _Emulate:
    """``emulate(**client_options)``: a fresh session through the test's client kind."""

    fixtures: Any
    spec: ProviderSpec
    kind: str = "sync"

    def __call__(self, **client_options: Any) -> contextlib.AbstractContextManager[Session]:
        return self.fixtures.session(self.spec, client_kind=self.kind, **client_options)


class ProviderFixtures:
    """What the suite needs to know about one provider. Subclasses set ``provider``.

    * ``emulator_options``: keywords for the emulator factory (its ``pbx`` set-up...);
    * ``client_options``: keywords for :func:`telephony_core.connect`; short timeouts keep the
      fault runs fast (a delay fault waits past ``timeout``);
    * ``known_addresses``: addresses that exist in the emulator's default set-up, and
      ``known_values``: values of other fields that exist (``{"scope": ({"user": "u1"},)}``);
      generated payloads mostly use them, so examples reach the success paths;
    * ``samples``: per operation, a payload (or ``prepare(session) -> payload``) that succeeds
      on a fresh emulator; the fault property proves recovery with it;
    * ``canary``: the password given to the emulator factory (when it takes ``password=``); it
      must never appear in a log line, an error or a repr;
    * ``only_operations``: restrict the suite to these operations (None: every operation);
    * ``documented``: files or directories of documented exchanges (None: the package's
      ``documented/`` and ``../tests/documented/``), see :mod:`.documented`;
      ``documented_emulator_options``: emulator factory keywords for the emulator side,
      :meth:`prepare_documented`: the hook that prepares the emulator's model for a sample, and
      ``documented_emulator_gaps``: exchange name -> why the emulator cannot give that sample
      yet (reported as an expected failure with the reason; strict: it fails once it passes);
    * ``vendor_spec``: the vendor's published API description the emulator's traffic is
      validated against (see :mod:`.spec_evidence`), or None; its ``corrections`` patch the
      loaded spec, each with its reason;
    * ``equivalence_excluded``: operation -> why model equivalence must not compare it (see
      :meth:`compared_operations`).
    """

    provider: ClassVar[str] = ""
    emulator_options: ClassVar[Mapping[str, Any]] = {}
    client_options: ClassVar[Mapping[str, Any]] = {
        "timeout": 0.4, "connect_timeout": 0.5, "deadline": 8, "retries": 2}
    known_addresses: ClassVar[tuple[str, ...]] = ()
    known_values: ClassVar[Mapping[str, tuple[Any, ...]]] = {}
    samples: ClassVar[Mapping[str, Sample]] = {}
    canary: ClassVar[str] = "canary-5ecret-7d1e"
    only_operations: ClassVar[frozenset[str] | None] = None
    documented: ClassVar[tuple[str, ...] | None] = None
    documented_emulator_options: ClassVar[Mapping[str, Any]] = {}
    documented_emulator_gaps: ClassVar[Mapping[str, str]] = {}
    vendor_spec: ClassVar[Any] = None
    equivalence_excluded: ClassVar[Mapping[str, str]] = {}

    # -- collection ----------------------------------------------------------------------

    @classmethod
    def _spec_or_none(cls) -> ProviderSpec | None:
        try:
            return registry.get(cls.provider) if cls.provider else None
        except TelephonyError:
            return None  # test_entry_point_loads reports why

    @classmethod
    def operations_under_test(cls) -> list[str]:
        return [op for op in OPERATIONS
                if cls.only_operations is None or op in cls.only_operations]

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """Parametrize ``operation`` (and ``undeclared_operation``, ``fault``) per provider."""
        spec = self._spec_or_none()
        ops = self.operations_under_test()
        if "operation" in metafunc.fixturenames:
            metafunc.parametrize("operation", ops)
        if "undeclared_operation" in metafunc.fixturenames:
            missing = [op for op in ops if spec is None or op not in spec.operations]
            metafunc.parametrize("undeclared_operation", missing or ["(none)"])
        if "documented_exchange" in metafunc.fixturenames:
            found = self.documented_exchanges(spec)
            if "emulator" in metafunc.function.__name__:
                found = [e for e in found if e.wire or e.problem or e.events]
            metafunc.parametrize("documented_exchange", found or [None],
                                 ids=[e.test_id for e in found] or ["(none)"])
        if "fault_name" in metafunc.fixturenames:
            from .faults import FAULTS

            metafunc.parametrize("fault_name", list(FAULTS))
        name = getattr(metafunc.function, "__name__", "")
        if name in BOTH_CLIENTS or "client_kind" in metafunc.fixturenames:
            from .clients import CLIENT_KINDS

            if "client_kind" not in metafunc.fixturenames:
                # the property's signature stays as it was (providers override test_fault and
                # call super() with it): the kind reaches the test through ``emulate.kind``
                metafunc.fixturenames.append("client_kind")
            metafunc.parametrize("client_kind", CLIENT_KINDS)

    @classmethod
    def documented_exchanges(cls, spec: ProviderSpec | None) -> list[Any]:
        """The provider's documented exchanges (see :mod:`.documented`)."""
        if spec is None:
            return []
        from .documented import discover

        return discover(spec, cls.documented)

    def compared_operations(self, spec: ProviderSpec, reference: ProviderSpec) -> list[str]:
        """The operations model equivalence compares: those both ``spec`` and the reference
        declare, less ``equivalence_excluded`` (operation -> why the vendor's behaviour
        differs from the model's on purpose). An exclusion without a reason, or of an operation
        that would not be compared anyway, fails: it must say why, and cannot go stale."""
        ops = [op for op in self.operations_under_test()
               if op in spec.operations and op in reference.operations]
        for op, reason in self.equivalence_excluded.items():
            if not isinstance(reason, str) or not reason.strip():
                pytest.fail(f"{type(self).__name__}.equivalence_excluded[{op!r}] gives no "
                            "reason: say why the vendor's behaviour differs from the model's",
                            pytrace=False)
            if op not in ops:
                pytest.fail(f"{type(self).__name__}.equivalence_excluded names {op!r}, which "
                            f"model equivalence would not compare anyway ({spec.name} and "
                            f"{reference.name} must both declare it)", pytrace=False)
        return [op for op in ops if op not in self.equivalence_excluded]

    def prepare_documented(self, session: Session, exchange: Any) -> Mapping[Any, Any] | None:
        """Put the emulator's model (``session.pbx``) in the state ``exchange`` assumes (the
        call its ``DELETE /calls/ID`` names exists...), before its documented requests are sent
        to the emulator. Return substitutions for ``<any>`` values and ids: ``{"path":
        "/api/calls/1700000000.1", "query.token": ..., "headers.Authorization": ...}`` (or
        ``{step_index: {...}}`` per request). The default prepares nothing."""
        return None

    # -- fixtures --------------------------------------------------------------------------

    @pytest.fixture
    def spec(self) -> ProviderSpec:
        if not self.provider:
            pytest.skip(f"{type(self).__name__} names no provider (set provider = 'NAME')")
        try:
            return registry.get(self.provider)
        except TelephonyError as exc:
            pytest.fail(f"provider {self.provider!r} does not load: {exc}")

    @pytest.fixture
    def declared(self, spec: ProviderSpec, operation: str) -> str:
        """The operation under test, skipping it (with the reason) when it is not declared."""
        if operation not in spec.operations:
            capability = OPERATIONS[operation].capability
            pytest.skip(f"{spec.name} does not declare {operation!r} (capability "
                        f"{capability.value})")
        return operation

    @pytest.fixture
    def emulate(self, spec: ProviderSpec, request: pytest.FixtureRequest
                ) -> Callable[..., contextlib.AbstractContextManager]:
        """``with emulate() as session:`` a fresh emulator and a client connected to it: the
        test's ``client_kind`` (sync or async) when it is parametrized by one, else sync. A
        provider the async client cannot run is skipped with the reason."""
        callspec = getattr(request.node, "callspec", None)
        kind = (callspec.params.get("client_kind", "sync") if callspec is not None else "sync")
        if kind != "sync":
            from .clients import async_refusal

            refused = async_refusal(spec)
            if refused is not None:
                pytest.skip(refused)
        return _Emulate(self, spec, kind)

    @pytest.fixture
    def debug_logs(self, caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
        """Capture every log record at DEBUG (urllib3's URL lines included)."""
        caplog.set_level(logging.DEBUG)
        for name in ("urllib3", "requests", "httpx", "httpcore", "telephony_core",
                     self.provider):
            caplog.set_level(logging.DEBUG, logger=name)
        return caplog

    # -- helpers ---------------------------------------------------------------------------

    def _factory_options(self, spec: ProviderSpec) -> dict[str, Any]:
        options = dict(self.emulator_options)
        factory = spec.emulator_factory()
        try:
            params = inspect.signature(factory).parameters
        except (TypeError, ValueError):
            return options
        takes_password = "password" in params or any(
            p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
        if takes_password and self.canary:
            options.setdefault("password", self.canary)
        return options

    @contextlib.contextmanager
    def session(self, spec: ProviderSpec, pbx: Any = None, *,
                factory_overrides: Mapping[str, Any] | None = None, client_kind: str = "sync",
                **client_options: Any) -> Iterator[Session]:
        """A fresh provider under test (see :class:`Session`).

        When the fixtures declare a ``vendor_spec``, the emulator application is wrapped so that
        every request it receives and every reply it gives is checked against the vendor's
        spec; the test fails, at the end of the session, with each violation."""
        options = {**self.client_options, **client_options}
        own = spec.name == self.provider  # a reference world gets its emulator's defaults
        if not spec.emulator:
            if spec.http:
                pytest.skip(f"{spec.name} ships no emulator, so the suite cannot exercise it")
            local = {k: v for k, v in options.items() if k in spec.full_config_schema.get(
                "properties", {})}
            if pbx is not None:
                local["pbx"] = pbx
            client = connect_kind(client_kind, spec.name, **local)
            try:
                yield Session(spec.name, client, kind=client_kind)
            finally:
                client.close()
            return
        from ..emulation import EmulatorServer

        if factory_overrides is not None:  # the caller chooses the credentials (no canary)
            factory_options = {**(self.emulator_options if own else {}), **factory_overrides}
        else:
            factory_options = self._factory_options(spec) if own else {}
        app = spec.emulator_factory()(pbx=pbx, **factory_options)
        checked = self._spec_checked(spec, app) if own else None
        server = EmulatorServer(checked if checked is not None else app).start()
        try:
            client = connect_kind(client_kind, app.connect_url(server.url), **options)
            try:
                yield Session(spec.name, client, server, app, kind=client_kind)
            finally:
                client.close()
        finally:
            server.stop()
        if checked is not None and checked.violations:
            shown = checked.violations[:8]
            more = len(checked.violations) - len(shown)
            pytest.fail(f"{spec.name}'s traffic breaks the vendor spec:\n  - " + "\n  - ".join(
                shown) + (f"\n  (and {more} more)" if more > 0 else ""), pytrace=False)

    def _spec_checked(self, spec: ProviderSpec, app: Any) -> Any:
        """``app`` wrapped in the vendor-spec check (None when the fixtures declare no spec)."""
        from .spec_evidence import SpecCheckedApp, declared

        try:
            found = declared(self, spec)
        except (OSError, ValueError) as exc:
            pytest.fail(f"{spec.name}'s fixtures declare vendor_spec {self.vendor_spec!r}, "
                        f"which cannot be loaded: {exc}", pytrace=False)
        if found is None:
            return None
        return SpecCheckedApp(app, *found)

    def addresses(self, spec: ProviderSpec) -> tuple[str, ...]:
        """``known_addresses``, or (when the fixtures give none) the extensions the emulator's
        model lists in its snapshot (``{"extensions": {"1000": ...}}``) plus an external
        number, so that a provider without fixtures still reaches its success paths."""
        if self.known_addresses:
            return tuple(self.known_addresses)
        key = (spec.name, type(self))
        if key not in _DERIVED:
            found: tuple[str, ...] = ()
            with self.session(spec) as session:
                model = session.pbx
                snapshot = model.snapshot() if callable(getattr(model, "snapshot", None)) else {}
                extensions = snapshot.get("extensions") if isinstance(snapshot, Mapping) else None
                if isinstance(extensions, Mapping) and extensions:
                    found = (*(f"ext:{n}" for n in sorted(extensions)), "tel:41000")
            _DERIVED[key] = found
        return _DERIVED[key]

    def effects(self, session: Session) -> int | None:
        """How many things the emulator has done that a re-send could double: calls placed and
        messages sent in its model (``pbx.calls``, ``pbx.sms_outbox``). The fault property
        compares it with the fault-free run for operations a provider declares ``retry_safe``:
        a re-send is allowed, acting twice is not. Override for a model of another shape;
        None: not measurable (the act-once check is then reported as not proven)."""
        model = session.pbx
        if model is None or not hasattr(model, "calls"):
            return None
        return len(model.calls) + len(getattr(model, "sms_outbox", ()) or ())

    def sample(self, session: Session, op: str) -> Mapping[str, Any] | None:
        """The sample payload of ``op`` for a fresh ``session`` (None when none is known)."""
        sample = self.samples.get(op)
        if sample is None:
            return None
        return sample(session) if callable(sample) else dict(sample)

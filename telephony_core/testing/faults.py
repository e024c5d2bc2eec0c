"""The faults the suite injects, and what each one allows an operation to end in.

The emulator kit's fault table (:mod:`telephony_core.emulation.faults`) says whether the
application ran; the operation's *kind* says whether the facade may retry. Together they say
what a conformant provider does:

==================  ==========  ================================  =============================
fault               app ran     non-idempotent (dial, sms...)     read / idempotent
==================  ==========  ================================  =============================
delay past timeout  yes         OutcomeUnknown, sent once         retried: the baseline outcome
reset_before_read   no          sent at most once, typed error    retried: the baseline outcome
reset_after_read    yes         OutcomeUnknown, sent once         retried (may see new state)
http_error 503      no          typed error, sent once            retried: the baseline outcome
malformed_body      yes         OutcomeUnknown/typed, sent once   retried (may see new state)
truncated_body      yes         OutcomeUnknown/typed, sent once   retried (may see new state)
expired_token       refused     re-login allowed, then once more  the baseline outcome
garbage_reply       yes         OutcomeUnknown, sent once         retried (may see new state)
truncated_head      yes         OutcomeUnknown, sent once         retried (may see new state)
redirect 307        no          typed error, sent once, not       typed error (never followed)
                                followed
trickle             yes         OutcomeUnknown by the deadline    typed error by the deadline
stall               yes         OutcomeUnknown by the deadline    typed error by the deadline
oversize (5 MB)     yes         typed error, sent once            typed error (the cap refuses)
==================  ==========  ================================  =============================

``trickle`` and ``stall`` run with a 1-second overall deadline (:attr:`FaultCase.deadline`):
only the deadline ends them, and it must, whatever the read timeout says.

"May see new state": the first request was processed, so a retried ``hangup`` may be told the
call is gone; a typed error is then acceptable, an untyped one or ``OutcomeUnknown`` is not.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from ..emulation import Fault

__all__ = ["FAULTS", "FaultCase"]


@attrs.frozen
class FaultCase:
    name: str
    make: Callable[[float], Fault]  # read timeout of the client -> the fault
    app_runs: bool
    reply_lost: bool  # the client gets no usable reply (so a non-idempotent op is unknown)
    #: a read or idempotent operation must recover its baseline outcome by retrying
    recovers: bool = True
    #: the client's overall deadline in this fault's runs (None: the profile's or fixtures')
    deadline: float | None = None


FAULTS: dict[str, FaultCase] = {c.name: c for c in (
    FaultCase("delay", lambda timeout: Fault.delay(timeout + 0.4), True, True),
    FaultCase("reset_before_read", lambda timeout: Fault.reset_before_read(), False, True),
    FaultCase("reset_after_read", lambda timeout: Fault.reset_after_read(), True, True),
    FaultCase("http_error", lambda timeout: Fault.http_error(503), False, False),
    FaultCase("malformed_body", lambda timeout: Fault.malformed_body(), True, False),
    FaultCase("truncated_body", lambda timeout: Fault.truncated_body(), True, False),
    FaultCase("expired_token", lambda timeout: Fault.expired_token(), True, False),
    FaultCase("garbage_reply", lambda timeout: Fault.garbage_reply(), True, True),
    FaultCase("truncated_head", lambda timeout: Fault.truncated_head(), True, True),
    FaultCase("redirect", lambda timeout: Fault.redirect(307), False, False, recovers=False),
    FaultCase("trickle", lambda timeout: Fault.trickle(0.05), True, True, recovers=False,
              deadline=1.0),
    FaultCase("stall", lambda timeout: Fault.stall(5.0), True, True, recovers=False,
              deadline=1.0),
    FaultCase("oversize", lambda timeout: Fault.oversize(5 * 1024 * 1024), True, False,
              recovers=False),
)}

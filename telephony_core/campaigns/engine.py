"""Submitting and steering campaigns: submit, status, pause, resume, cancel, report.

Everything here talks to Temporal as a client only; workers (:mod:`.worker`) do the sending.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
from temporalio.client import Client as TemporalClient
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from ..errors import ConfigurationError, PayloadProblem, TelephonyError
from .model import STATUSES, CampaignFileError, Item, check_name, outcome
from .sender import ProfileClients
from .workflows import (
    WORKFLOW_QUEUE,
    CampaignBatch,
    CampaignRecord,
    batch_id,
    record_id,
)

__all__ = ["Campaign", "CampaignNotFound", "Campaigns", "Progress", "Settings", "Submission",
           "check_items"]


@attrs.frozen
class Settings:
    """How a campaign runs.

    * ``batch_size`` items per batch workflow, ``window`` of them in flight per batch;
    * ``send_timeout``: must exceed the profiles' ``deadline`` (the client's own limit per
      operation): past it, Temporal considers the worker lost;
    * ``lost_worker_attempts``: how often a send lost with its worker is run again, only where
      that is harmless (see :mod:`.workflows`);
    * ``busy_retries``, ``busy_wait``: how often, and after how long (doubling, or the
      provider's Retry-After), an item a profile refused "for now" (busy, 503, rate limit) is
      sent to it again before the next profile is tried.
    """

    batch_size: int = 200
    window: int = 25
    send_timeout: float = 60.0
    lost_worker_attempts: int = 3
    busy_retries: int = 3
    busy_wait: float = 5.0

    def to_data(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class Campaign:
    name: str = attrs.field(validator=lambda _, __, v: check_name(v))
    items: Sequence[Item] = attrs.field(converter=tuple)
    settings: Settings = Settings()


@attrs.frozen
class Submission:
    """What submitting did: ``new`` is False when the campaign existed already (then
    ``started`` counts only batches a crashed earlier submission had not started)."""

    name: str
    new: bool
    started: int
    batches: int
    total: int


@attrs.frozen
class Progress:
    total: int
    done: int
    in_flight: int
    paused: bool
    cancelled: bool
    sent: int
    refused: int
    unknown: int
    skipped: int

    @property
    def finished(self) -> bool:
        return self.done >= self.total


class CampaignNotFound(ConfigurationError):
    """No campaign of that name was submitted to this Temporal namespace."""


def check_items(items: Sequence[Item], clients: ProfileClients) -> list[dict[str, Any]]:
    """Check every item against its profiles before anything starts: the profile exists, its
    provider declares the operation, the payload passes the provider's own schema. Returns
    the items as workflow data, each with the profiles where a lost send may be repeated
    (``retry_safe``). Raises :class:`CampaignFileError` listing every problem."""
    from ..catalogue import operation
    from ..schemas import problems as schema_problems

    problems: list[PayloadProblem] = []
    connected: dict[str, Any] = {}
    unknown_profiles: dict[str, str] = {}
    for name in sorted({p for item in items for p in item.profiles}):
        try:
            connected[name] = clients.connect(name)
        except TelephonyError as exc:
            unknown_profiles[name] = exc.message
    out: list[dict[str, Any]] = []
    try:
        for item in items:
            where = f"line {item.line}" if item.line else f"item {item.key}"
            safe: list[str] = []
            for name in item.profiles:
                if name in unknown_profiles:
                    problems.append(PayloadProblem(f"{where}: profiles",
                                                   f"unknown profile {name!r}: "
                                                   f"{unknown_profiles[name]}"))
                    continue
                client = connected[name]
                if item.operation not in client.spec.operations:
                    problems.append(PayloadProblem(
                        f"{where}: operation",
                        f"profile {name!r} ({client.name}) does not declare "
                        f"{item.operation!r}; it declares: {', '.join(client.operations)}"))
                    continue
                found = schema_problems(client.spec.validator(item.operation),
                                        dict(item.payload))
                problems += [PayloadProblem(f"{where}: {p.path.removeprefix('$.')}",
                                            f"{p.message} (profile {name!r})") for p in found]
                if (operation(item.operation).kind.retryable
                        or item.operation in client.provider.retry_safe):
                    safe.append(name)
            out.append({**item.to_data(), "retry_safe": safe})
    finally:
        for client in connected.values():
            client.close()
    if problems:
        raise CampaignFileError(problems, source="the campaign")
    return out


def fingerprint(items: Sequence[Mapping[str, Any]], settings: Settings) -> str:
    text = json.dumps([list(items), settings.to_data()], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class Campaigns:
    """Campaigns on one Temporal namespace (``client``)."""

    def __init__(self, client: TemporalClient):
        self.client = client
        self._results: dict[str, dict[str, Any]] = {}

    async def submit(self, campaign: Campaign, clients: ProfileClients) -> Submission:
        """Check, then start the campaign. Submitting a campaign name again starts nothing
        (the same items) or is refused (other items)."""
        items = check_items(campaign.items, clients)
        settings = campaign.settings
        size = max(1, settings.batch_size)
        chunks = [items[i:i + size] for i in range(0, len(items), size)]
        meta = {"name": campaign.name, "total": len(items), "batches": len(chunks),
                "fingerprint": fingerprint(items, settings),
                "operations": sorted({i["operation"] for i in items}),
                "profiles": sorted({p for i in items for p in i["profiles"]})}
        new = True
        try:
            await self.client.start_workflow(
                CampaignRecord.run, meta, id=record_id(campaign.name), task_queue=WORKFLOW_QUEUE,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE, memo={"campaign": meta})
        except WorkflowAlreadyStartedError:
            new = False
            existing = await self.meta(campaign.name)
            if existing.get("fingerprint") != meta["fingerprint"]:
                raise ConfigurationError(
                    f"a campaign named {campaign.name!r} was already submitted with other items "
                    "or settings; nothing was started. Give this one another name",
                    key="campaign") from None
        started = 0
        for index, chunk in enumerate(chunks):
            batch = {"campaign": campaign.name, "index": index, "items": chunk,
                     "settings": settings.to_data()}
            try:
                await self.client.start_workflow(
                    CampaignBatch.run, batch, id=batch_id(campaign.name, index),
                    task_queue=WORKFLOW_QUEUE,
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
                started += 1
            except WorkflowAlreadyStartedError:
                pass
        return Submission(campaign.name, new, started, len(chunks), len(items))

    # -- reading -------------------------------------------------------------------------

    async def meta(self, name: str) -> dict[str, Any]:
        """The campaign's record (name, total, batches, fingerprint...)."""
        check_name(name)
        try:
            described = await self.client.get_workflow_handle(record_id(name)).describe()
        except RPCError:
            raise CampaignNotFound(f"no campaign named {name!r} on this Temporal server",
                                   key="campaign") from None
        memo = await described.memo_value("campaign")
        return dict(memo)

    async def _handles(self, name: str) -> list[WorkflowHandle]:
        meta = await self.meta(name)
        return [self.client.get_workflow_handle(batch_id(name, i))
                for i in range(int(meta["batches"]))]

    async def _batch(self, handle: WorkflowHandle, query: str) -> Any:
        """A batch's final result when it has finished, else the answer to ``query``."""
        done = self._results.get(handle.id)
        if done is None:
            status = (await handle.describe()).status
            if status == WorkflowExecutionStatus.COMPLETED:
                done = self._results[handle.id] = await handle.result()
            elif status == WorkflowExecutionStatus.RUNNING:
                try:
                    return await handle.query(query)
                except RPCError as exc:
                    raise ConfigurationError(
                        f"no worker answered for {handle.id} ({exc.message}): campaign "
                        "workflows need a running `telephony campaign worker`",
                        key="temporal") from None
            else:
                return None  # terminated/failed by an operator: reported as such below
        if query == "outcomes":
            return done["outcomes"]
        return _count(done["outcomes"])

    async def progress(self, name: str) -> Progress:
        handles = await self._handles(name)
        parts = await asyncio.gather(*(self._batch(h, "progress") for h in handles))
        total = dict.fromkeys(("total", "done", "in_flight", *STATUSES), 0)
        paused = cancelled = False
        for part in parts:
            if part is None:
                continue
            for key in total:
                total[key] += int(part.get(key, 0))
            paused = paused or bool(part.get("paused"))
            cancelled = cancelled or bool(part.get("cancelled"))
        if any(p is None for p in parts):  # a batch an operator terminated: count it done
            total["total"] = int((await self.meta(name))["total"])
            total["done"] = total["total"]
        return Progress(paused=paused, cancelled=cancelled, **total)

    async def report(self, name: str) -> list[dict[str, Any]]:
        """One record per item: its status (``sent``, ``refused``, ``unknown``, ``skipped``,
        or ``pending`` while the campaign runs), the profile, the reason and the result id."""
        out: list[dict[str, Any]] = []
        for index, handle in enumerate(await self._handles(name)):
            part = await self._batch(handle, "outcomes")
            if part is None:
                out.append(outcome({"key": f"batch {index}", "operation": "?"}, "unknown",
                                   reason="batch_ended",
                                   detail=f"workflow {handle.id} was terminated or failed; "
                                          "see `temporal workflow show`"))
                continue
            out += part
        return out

    async def wait(self, name: str, *, on_progress: Callable[[Progress], None] | None = None,
                   interval: float = 1.0, timeout: float | None = None) -> Progress:
        """Poll until every item has an outcome; returns the final progress."""
        loop = asyncio.get_running_loop()
        end = None if timeout is None else loop.time() + timeout
        while True:
            progress = await self.progress(name)
            if on_progress is not None:
                on_progress(progress)
            if progress.finished:
                return progress
            if end is not None and loop.time() > end:
                raise TimeoutError(f"campaign {name!r} did not finish within {timeout} s")
            await asyncio.sleep(interval)

    # -- steering ------------------------------------------------------------------------

    async def _signal(self, name: str, signal: Any) -> int:
        handles = await self._handles(name)
        sent = 0
        for handle in handles:
            try:
                await handle.signal(signal)
                sent += 1
            except RPCError:  # the batch has finished already
                pass
        return sent

    async def pause(self, name: str) -> int:
        """Start no new item until :meth:`resume` (items in flight finish). Returns the
        number of batches still running that were told."""
        return await self._signal(name, CampaignBatch.pause)

    async def resume(self, name: str) -> int:
        return await self._signal(name, CampaignBatch.resume)

    async def cancel(self, name: str) -> int:
        """Start no new item; every item not yet tried ends ``skipped``."""
        return await self._signal(name, CampaignBatch.cancel)


def _count(outcomes: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    counts = {status: 0 for status in STATUSES}
    for o in outcomes:
        counts[o["status"]] = counts.get(o["status"], 0) + 1
    return {"total": len(outcomes), "done": len(outcomes), "in_flight": 0, "paused": False,
            "cancelled": False, **counts}

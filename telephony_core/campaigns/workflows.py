"""The Temporal workflows of a campaign (deterministic code: no I/O, no clocks, no randomness).

Shape, chosen for throughput on one dev server and for history size at 100k items:

* ``telephony.campaign`` (id ``campaign.NAME``): a record of the campaign (its batches, item
  count, a fingerprint of its items) kept in the workflow's memo. Started with
  ``REJECT_DUPLICATE``, so a campaign name is used once: submitting it again starts nothing.
* ``telephony.campaign.batch`` (id ``campaign.NAME.bNNNNN``): up to ``batch_size`` items, each
  sent by activities on the task queue of the profile tried (``telephony-send.PROFILE``), at
  most ``window`` at a time per batch. Also ``REJECT_DUPLICATE``: a batch runs once.

Per item, the profiles are tried in order, one activity each, and the next one only when the
previous verdict was ``refused`` (the failure proves nothing was done). ``unknown`` stops the
item. An activity lost with its worker (start-to-close timeout) is retried by Temporal only when
the operation is safe to repeat on that profile (the provider's ``retry_safe``, or an
idempotent/read operation), otherwise it is recorded as ``unknown``: the request may have left.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, TimeoutError

with workflow.unsafe.imports_passed_through():
    from .model import outcome

__all__ = ["SEND_ACTIVITY", "WORKFLOW_QUEUE", "CampaignBatch", "CampaignRecord",
           "batch_id", "record_id", "send_queue"]

#: The task queue campaign workflows run on (any worker process may serve it).
WORKFLOW_QUEUE = "telephony-campaigns"
SEND_ACTIVITY = "telephony.campaign.send"


def send_queue(profile: str) -> str:
    """The task queue of one provider account: its rate limit is enforced there, server-side."""
    return f"telephony-send.{profile}"


def record_id(name: str) -> str:
    return f"campaign.{name}"


def batch_id(name: str, index: int) -> str:
    return f"campaign.{name}.b{index:05d}"


@workflow.defn(name="telephony.campaign")
class CampaignRecord:
    """Holds nothing but its memo; exists so the campaign's name is taken exactly once."""

    @workflow.run
    async def run(self, meta: dict[str, Any]) -> dict[str, Any]:
        return meta


def _plan(item: dict[str, Any], settings: dict[str, Any],
          again: dict[str, bool]) -> Iterator[tuple[str, int]]:
    """(profile, resend number) in order: each profile once, plus up to ``busy_retries``
    resends while it answers "not now" (``again``; such an answer proves nothing was done)."""
    for profile in item["profiles"]:
        again[profile] = False
        yield profile, 0
        for tries in range(1, int(settings.get("busy_retries", 0)) + 1):
            if not again.get(profile):
                break
            yield profile, tries


@workflow.defn(name="telephony.campaign.batch")
class CampaignBatch:
    def __init__(self) -> None:
        self._paused = False
        self._cancelled = False
        self._in_flight = 0
        self._items: list[dict[str, Any]] = []
        self._outcomes: dict[str, dict[str, Any]] = {}

    @workflow.run
    async def run(self, batch: dict[str, Any]) -> dict[str, Any]:
        settings = batch["settings"]
        self._items = batch["items"]
        self._paused = bool(batch.get("paused", False))
        window = asyncio.Semaphore(max(1, int(settings["window"])))
        await asyncio.gather(*(self._one(item, window, settings) for item in self._items))
        return {"campaign": batch["campaign"], "index": batch["index"],
                "outcomes": [self._outcomes[item["key"]] for item in self._items]}

    async def _one(self, item: dict[str, Any], window: asyncio.Semaphore,
                   settings: dict[str, Any]) -> None:
        async with window:
            await workflow.wait_condition(lambda: not self._paused or self._cancelled)
            if self._cancelled:
                self._outcomes[item["key"]] = outcome(
                    item, "skipped", reason="cancelled",
                    detail="the campaign was cancelled before this item was tried")
                return
            self._in_flight += 1
            try:
                self._outcomes[item["key"]] = await self._through_profiles(item, settings)
            finally:
                self._in_flight -= 1

    async def _through_profiles(self, item: dict[str, Any],
                                settings: dict[str, Any]) -> dict[str, Any]:
        attempts: list[dict[str, Any]] = []
        request_item = {k: item[k] for k in ("key", "operation", "payload")}
        again: dict[str, bool] = {}
        for profile, tries in _plan(item, settings, again):
            if attempts and self._cancelled:
                return outcome(item, "refused", profile=attempts[-1]["profile"],
                               reason=attempts[-1]["reason"],
                               detail="refused; the campaign was cancelled before it was tried "
                                      "again", attempts=attempts)
            if tries:  # the profile refused it for now (busy, 503, rate limit): wait, resend
                last = attempts[-1]
                wait = last.get("retry_after") or float(settings["busy_wait"]) * 2 ** (tries - 1)
                await workflow.sleep(min(float(wait), 300.0))
                await workflow.wait_condition(lambda: not self._paused or self._cancelled)
                if self._cancelled:
                    continue
            safe = profile in item.get("retry_safe", ())
            at = workflow.now().isoformat(timespec="seconds")
            try:
                verdict = await workflow.execute_activity(
                    SEND_ACTIVITY, {"item": request_item, "profile": profile},
                    task_queue=send_queue(profile),
                    activity_id=f"{item['key']}@{profile}" + (f"#{tries}" if tries else ""),
                    start_to_close_timeout=timedelta(seconds=float(settings["send_timeout"])),
                    retry_policy=RetryPolicy(
                        maximum_attempts=int(settings["lost_worker_attempts"]) if safe else 1,
                        initial_interval=timedelta(seconds=1)))
            except ActivityError as exc:
                lost = isinstance(exc.cause, TimeoutError)
                reason = "worker_lost" if lost else "activity_failed"
                detail = ("the worker sending it stopped answering (killed, or the send "
                          "outlived send_timeout): the request may have left; it was not "
                          "re-sent" if lost else f"the activity failed: {exc.cause or exc}")
                attempts.append({"profile": profile, "status": "unknown", "reason": reason,
                                 "at": at})
                return outcome(item, "unknown", profile=profile, reason=reason, detail=detail,
                               attempts=attempts)
            attempts.append({"profile": profile, "status": verdict["status"],
                             "reason": verdict.get("reason", ""), "at": at,
                             "detail": verdict.get("detail", "")})
            if verdict.get("retry_after") is not None:
                attempts[-1]["retry_after"] = verdict["retry_after"]
            again[profile] = bool(verdict.get("again"))
            if verdict["status"] == "sent":
                return outcome(item, "sent", profile=profile, result=verdict.get("result"),
                               attempts=attempts)
            if verdict["status"] != "refused":
                return outcome(item, "unknown", profile=profile, reason=verdict.get("reason", ""),
                               detail=verdict.get("detail", ""), attempts=attempts)
        last = attempts[-1]
        return outcome(item, "refused", profile=last["profile"], reason=last["reason"],
                       detail="; ".join(f"{a['profile']}: {a.get('detail') or a['reason']}"
                                        for a in attempts),
                       attempts=attempts)

    @workflow.signal
    def pause(self) -> None:
        self._paused = True

    @workflow.signal
    def resume(self) -> None:
        self._paused = False

    @workflow.signal
    def cancel(self) -> None:
        self._cancelled = True

    @workflow.query
    def progress(self) -> dict[str, Any]:
        counts = {status: 0 for status in ("sent", "refused", "unknown", "skipped")}
        for o in self._outcomes.values():
            counts[o["status"]] += 1
        return {"total": len(self._items), "done": len(self._outcomes),
                "in_flight": self._in_flight, "paused": self._paused,
                "cancelled": self._cancelled, **counts}

    @workflow.query
    def outcomes(self) -> list[dict[str, Any]]:
        return [self._outcomes.get(item["key"]) or outcome(item, "pending")
                for item in self._items]

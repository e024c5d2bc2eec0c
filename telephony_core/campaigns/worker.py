"""Workers: the processes that run campaign workflows and send items.

A worker process serves the workflow queue (``telephony-campaigns``) and, for each provider
account (profile) it is given, that account's send queue with:

* ``max_task_queue_activities_per_second=RATE``: the account's rate, enforced by the Temporal
  server for the queue as a whole, so it holds however many workers poll it. Give every worker
  of an account the same rate (the server keeps the value the latest poller set);
* ``max_concurrent_activities=CONCURRENCY``: how many sends this process runs at once (each is
  one HTTP request in a thread). The account-wide bound on requests in flight is
  workers x CONCURRENCY; see docs/campaigns.md for why that, and not a cluster-wide semaphore,
  is the cap we enforce.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from collections.abc import Callable, Mapping
from typing import Any

import attrs
from temporalio import activity
from temporalio.client import Client as TemporalClient
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from .sender import ProfileClients, Sender
from .workflows import SEND_ACTIVITY, WORKFLOW_QUEUE, CampaignBatch, CampaignRecord, send_queue

__all__ = ["WorkerSet", "connect_temporal"]


async def connect_temporal(address: str, namespace: str = "default") -> TemporalClient:
    """A Temporal client for ``HOST:PORT``."""
    from ..errors import ConfigurationError

    try:
        return await TemporalClient.connect(address, namespace=namespace)
    except Exception as exc:  # the SDK raises RuntimeError for an unreachable server
        raise ConfigurationError(f"cannot reach Temporal at {address!r}: {exc}",
                                 key="temporal") from None


@attrs.define
class WorkerSet:
    """The workers of one process: the workflow worker and one send worker per profile.

    ``rates`` maps each profile this process sends for to its rate (operations per second,
    ``None`` for no limit). ``workflows=False`` makes a send-only process.
    """

    client: TemporalClient
    rates: Mapping[str, float | None]
    clients: ProfileClients = attrs.field(factory=ProfileClients)
    concurrency: int = 10
    workflows: bool = True
    before_send: Callable[[str, str], None] | None = None
    _executor: concurrent.futures.ThreadPoolExecutor | None = attrs.field(default=None,
                                                                           init=False)
    _workers: list[Worker] = attrs.field(factory=list, init=False)
    _stack: contextlib.AsyncExitStack | None = attrs.field(default=None, init=False)

    def build(self) -> list[Worker]:
        sender = Sender(self.clients, before_send=self.before_send)

        @activity.defn(name=SEND_ACTIVITY)
        def send(request: dict[str, Any]) -> dict[str, Any]:
            return sender.send(request)

        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=max(1, self.concurrency * max(1, len(self.rates))),
            thread_name_prefix="campaign-send")
        workers: list[Worker] = []
        if self.workflows:
            workers.append(Worker(self.client, task_queue=WORKFLOW_QUEUE,
                                  workflows=[CampaignRecord, CampaignBatch],
                                  workflow_runner=UnsandboxedWorkflowRunner()))
        for profile, rate in self.rates.items():
            options: dict[str, Any] = {}
            if rate is not None:
                options["max_task_queue_activities_per_second"] = float(rate)
            workers.append(Worker(self.client, task_queue=send_queue(profile),
                                  activities=[send], activity_executor=self._executor,
                                  max_concurrent_activities=self.concurrency, **options))
        self._workers = workers
        return workers

    async def run(self) -> None:
        """Run until cancelled (Ctrl-C), then shut down gracefully."""
        async with self:
            await asyncio.Event().wait()

    async def __aenter__(self) -> WorkerSet:
        workers = self.build()
        self._stack = contextlib.AsyncExitStack()
        for worker in workers:
            await self._stack.enter_async_context(worker)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        try:
            if self._stack is not None:
                await self._stack.aclose()
        finally:
            if self._executor is not None:
                self._executor.shutdown(wait=False, cancel_futures=True)
            self.clients.close()

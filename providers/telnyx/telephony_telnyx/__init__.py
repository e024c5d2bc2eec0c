"""Telnyx Call Control v2 and Messaging for telephony_core.

Commands carry the operation's idempotency key as Telnyx's ``command_id`` (so a retried command
is ignored by Telnyx), flows that continue on webhooks keep their state in ``client_state``, and
webhooks are verified with Ed25519 (``telnyx-signature-ed25519`` over ``timestamp|body``).
"""

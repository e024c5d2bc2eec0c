"""Asterisk REST Interface (ARI) provider for telephony_core: REST calls plus the ARI event
WebSocket, which keeps the Stasis application alive and carries the events flows continue on."""

__all__: list[str] = []

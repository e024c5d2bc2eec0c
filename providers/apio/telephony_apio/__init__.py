"""Netaxis APIO (a REST gateway in front of BroadWorks) for telephony_core.

APIO configures services rather than controlling calls; this provider declares only the two
music-on-hold operations, so ``client.supports("dial")`` is False.
"""

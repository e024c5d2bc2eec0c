"""Yeastar S-Series IP-PBX for telephony_core (HTTP API v1.0.x, seeds 000 and 002).

The token travels in every URL's query string and the password is sent as its MD5: both are
registered with the core's redaction, so neither reaches a log line, an error or a repr.
"""

"""Infinity (infin8linx) cloud call centre for telephony_core.

A PhalApi-style RPC API (form-data POSTs naming ``service=App.Class.Method``) that acknowledges
commands without call ids and reports what happened through callbacks; ``reference`` travels as
``customuuid`` so a callback can be joined to the request that caused it.
"""

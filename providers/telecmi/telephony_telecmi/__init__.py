"""TeleCMI PIOPIY voice API for telephony_core: a call is a list of PCMO actions.

Credentials (``appid``, ``secret``) travel in every JSON body, so the secret is registered with
the core's redaction and never appears in a log line, error or repr.
"""

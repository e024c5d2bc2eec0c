"""Twilio Programmable Voice and Messaging (REST API 2010-04-01) for telephony_core.

Calls are placed with TwiML sent inline (the ``Twiml`` parameter), so no application web server
is needed for dial, play_prompt and transfer. Hold, mute and monitor exist at Twilio only for
conference participants: dial places conference-backed calls when the ``conference`` option is
on. Status callbacks are verified (``X-Twilio-Signature``) before they become events.
"""

from telephony_core.errors import SignatureError  # the core's; re-exported for convenience

__all__ = ["SignatureError"]

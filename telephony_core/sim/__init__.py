"""The embedded simulator: a PBX call-state model and the in-process ``sim`` provider.

``telephony_core.connect("sim://")`` returns the ``sim`` provider; every vendor
emulator is a thin wire adapter over the same :class:`Pbx` model.
"""

from .clock import Clock
from .model import Call, Leg, MohSettings, MohSource, Pbx, SmsRecord
from .setup import Setup, load_setup

__all__ = ["Call", "Clock", "Leg", "MohSettings", "MohSource", "Pbx", "Setup", "SmsRecord",
           "load_setup"]

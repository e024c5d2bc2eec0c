"""An example telephony_core provider for the imaginary "Example PBX" JSON API.

It follows docs/plugin-guide.md step by step: a light spec (:mod:`.spec`), narrowed schemas
(``schemas/``), an :class:`~telephony_core.http.HttpProvider` (:mod:`.provider`) and an
emulator over the shared call model (:mod:`.emulator`).
"""

"""``python -m telephony_core``: the ``telephony`` command, where the script is not on PATH."""

from telephony_core.cli import main

if __name__ == "__main__":  # pragma: no cover - run as a module
    main(prog_name="telephony")

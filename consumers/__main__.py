"""Entry point: `python -m consumers COMMAND` (see `consumers.cli`)."""

from __future__ import annotations

import sys

from consumers.cli import main

if __name__ == "__main__":
    sys.exit(main())

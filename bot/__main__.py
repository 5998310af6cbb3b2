"""`python -m bot` is the `ashi` command."""

import sys

from bot.cli import main

sys.exit(main())

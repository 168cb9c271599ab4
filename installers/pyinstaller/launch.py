"""Entry script for frozen builds: the same `fieldatlas` command as the console script."""

import sys

from desktop.cli import main

sys.exit(main())

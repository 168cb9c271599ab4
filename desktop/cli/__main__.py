"""`python -m desktop.cli` runs the fieldatlas command."""

import sys

from desktop.cli import main

# Guarded: the routing worker process re-imports the main module and must not run the command again.
if __name__ == "__main__":
    sys.exit(main())

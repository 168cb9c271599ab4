"""Entry script for frozen builds: the same `fieldatlas` command as the console script."""

import multiprocessing
import sys

from desktop.cli import main

if __name__ == "__main__":
    # The routing engine runs in a worker process; a frozen build must let that child start here.
    multiprocessing.freeze_support()
    sys.exit(main())

"""`python -m desktop.cli` runs the fieldatlas command."""

import sys

from desktop.cli import main

sys.exit(main())

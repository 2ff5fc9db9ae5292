"""`python -m skinflint` runs the CLI."""

import sys

from skinflint.cli import main

sys.exit(main())

"""`python -m faithbench.cli ...` (e.g. under `accelerate launch`): the `faithbench` command."""

import sys

from faithbench.cli import main

sys.exit(main())

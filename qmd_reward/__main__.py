"""``python -m qmd_reward``: the ``qmd-reward`` command line."""

import sys

from .cli import main

sys.exit(main())

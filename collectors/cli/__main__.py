"""``python -m collectors.cli``: the same as the ``lagwatch`` console script."""

import sys

from collectors.cli.main import main

sys.exit(main())

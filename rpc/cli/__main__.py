"""`python -m rwachain.rpc.cli`: the rwad command line (rpc/cli/main.py)."""

import sys

from rwachain.rpc.cli.main import main

sys.exit(main())

"""`python -m gateway` is `scim-gateway`."""

import sys

from gateway.cli import main

sys.exit(main())

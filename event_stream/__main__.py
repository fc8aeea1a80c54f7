"""`python -m event_stream`: the developer CLI."""

import sys

from event_stream.tools.cli import main

sys.exit(main())

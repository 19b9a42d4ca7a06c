"""``python -m sensorframe.cli``: the ``sensorframe`` command."""

import sys

from sensorframe.cli import main

sys.exit(main())

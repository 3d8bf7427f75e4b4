import sys

from minion.cli import main

sys.exit(main())

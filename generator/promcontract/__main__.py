import sys

from promcontract.cli import main

sys.exit(main())

"""`python -m tvm_codesign` is the same as the `tvm-codesign` command."""

import sys

from .cli import main

sys.exit(main())

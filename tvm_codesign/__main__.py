"""`python -m tvm_codesign` is the same as the `tvm-codesign` command."""

import sys

from tvm_codesign.cli import main

sys.exit(main())

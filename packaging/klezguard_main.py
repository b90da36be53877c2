"""The bundle's program: the same `klezguard` command as the installed package.

freeze_support() lets the scanning helper processes (multiprocessing, spawn) start from the bundle: a
helper is the bundle's program started again, and must run the helper's code instead of the app."""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from klezguard.cli import main

    sys.exit(main())

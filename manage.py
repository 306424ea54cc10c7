#!/usr/bin/env python
"""Django's command-line utility for SIG Hub."""

import os
import sys


def main() -> None:
    if sys.version_info < (3, 12):  # noqa: UP036 - a clear message for the wrong Python
        sys.exit(
            f"SIG Hub needs Python 3.12 or newer; this is {sys.version.split()[0]}.\n"
            "Use the project's virtual environment (make install creates .venv with the "
            "Python named in .python-version), or install Python 3.12."
        )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()

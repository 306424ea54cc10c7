"""SIG Hub's benchmark kit (issue 7): each figure measured beside its floor, in one run.

``make bench`` (or ``bench/run``, or ``python -m bench``) runs every part and
prints a table; ``--quick`` is a short version for development. See
``bench/__main__.py`` for the parts and README.md for how to read them.
"""

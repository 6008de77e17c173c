"""The ``heron`` command line: a thin layer over ``heron.Client`` (and, for ``db``, the store)."""

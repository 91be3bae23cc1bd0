"""Settings modules: ``dev`` (the embedded default), ``test`` and ``production``."""

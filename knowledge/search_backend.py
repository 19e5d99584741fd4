"""Haystack's Whoosh engine with one index per brand.

A single shared Whoosh index mixes brands: brand B's article 1 overwrites brand A's, and
`update_index --remove` in one brand deletes the other's documents. Here the engine hands
out a backend whose index folder is named after the schema the connection is in, so
every search and every write stays inside the current brand.
"""

import shutil
import threading
from pathlib import Path

from django.db import connection
from haystack.backends.whoosh_backend import WhooshEngine, WhooshSearchBackend


class NoBrandSearchError(RuntimeError):
    pass


class BrandWhooshEngine(WhooshEngine):
    _lock = threading.Lock()

    def __init__(self, using=None):
        super().__init__(using=using)
        self._backends: dict[str, WhooshSearchBackend] = {}

    def get_backend(self):
        schema = connection.schema_name
        if schema in ("public", None, ""):
            raise NoBrandSearchError("The help-center index is per brand: enter a brand's schema first.")
        backend = self._backends.get(schema)
        if backend is not None and not Path(backend.path).is_dir():
            # Removed with a deleted brand (in this process or another): a brand made anew
            # under that schema name starts from an empty index, not the open old one.
            backend = None
            self._backends.pop(schema, None)
        if backend is None:
            with self._lock:
                backend = self._backends.get(schema)
                if backend is None:
                    options = dict(self.options, PATH=str(Path(self.options["PATH"]) / schema))
                    backend = self.backend(self.using, **options)
                    self._backends[schema] = backend
        return backend

    def reset_sessions(self):
        self._backends = {}

    def index_drop(self, schema: str) -> None:
        """Remove a brand's index folder (the brand is gone, or new under a gone one's name)."""
        with self._lock:
            self._backends.pop(schema, None)
            shutil.rmtree(Path(self.options["PATH"]) / schema, ignore_errors=True)

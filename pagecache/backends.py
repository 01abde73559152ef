"""The page store of a server without Redis: diskcache's Django backend, kept open.

Django closes every cache when a request finishes (``request_finished``); for diskcache that
means closing its SQLite files, which checkpoints their write-ahead log, and opening them again
on the next request: about 8 ms a request, more than rendering the page. diskcache's
connections are per thread and every operation is atomic, so they stay open for the life of
the process, as diskcache's author advises ("open and close it as little as possible").
"""

from diskcache import DjangoCache


class PageStore(DjangoCache):
    def close(self, **kwargs):
        """Keep the SQLite files open between requests (see the module's docstring)."""

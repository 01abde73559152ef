"""The page store without Redis: Django's file cache, with two costs of its hit path and its
writes removed (docs/architecture.md, "Page cache").

- **No zlib.** Django's ``FileBasedCache`` compresses every value; a cached digest page is
  41 KB of HTML, and decompressing it was 60–100 µs of a 470 µs hit, a fifth of the time a
  warm page costs. Pages are kept as pickled bytes instead: a digest page's file is then
  ~53 KB (the page and its gzip pieces, papers/page_cache.py) rather than ~11 KB, about
  160 MB at the default 3,000 files.
- **No memcached key check.** Every read of Django's file cache tests each character of
  the key for memcached's limits, which files named by a hash do not have.
- **No flush on replace.** A page stored after a change replaces its old file; renamed
  over it, ext4 writes the new file to disk first (``auto_da_alloc``: 120–470 µs here), so
  the old file is unlinked before the rename (8 µs). A reader in between gets a miss.
- **Culling checked every ``CULL_CHECK_EVERY`` writes.** Django lists the whole directory
  on every ``set`` to see whether ``MAX_ENTRIES`` is reached: with 3,000 files that is a
  directory scan on every page rendered. The bound is kept to within that many writes per
  process.

Files use their own suffix, so files written by ``FileBasedCache`` (zlib) before an upgrade
are never read as pages; ``clear()`` removes both kinds. A file that cannot be read back
(truncated, written by something else) is a miss, never an error.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pickle
import tempfile

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache
from django.core.files import locks

CULL_CHECK_EVERY = 64
_OLD_SUFFIX = ".djcache"


class PageFileCache(FileBasedCache):
    cache_suffix = ".page"

    def __init__(self, dir, params):
        super().__init__(dir, params)
        self._writes_since_cull_check = CULL_CHECK_EVERY  # the first write checks

    def validate_key(self, key):
        """Django warns about keys memcached would refuse, checking every character on
        every read; this store is files named by the key's hash, and its keys are the page
        cache's own."""

    def get(self, key, default=None, version=None):
        fname = self._key_to_file(key, version)
        try:
            with open(fname, "rb") as f:
                if not self._is_expired(f):
                    return pickle.loads(f.read())
        except FileNotFoundError:
            pass
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError):
            # Unreadable (cut short by a crash, another format): a miss, and gone, so that
            # ``add`` (the content version's first writer) can write the key again. Files
            # this store writes are complete when they appear (renamed into place).
            self._delete(fname)
        return default

    def _is_expired(self, f):
        try:
            return super()._is_expired(f)
        except (pickle.UnpicklingError, ValueError, TypeError):
            f.close()
            self._delete(f.name)
            return True

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        self._createdir()  # the directory may have been removed at any time
        fname = self._key_to_file(key, version)
        self._cull()
        fd, tmp_path = tempfile.mkstemp(dir=self._dir)
        try:
            with open(fd, "wb") as f:
                self._write_content(f, timeout, value)
            # Unlink, then rename: ext4 flushes a file renamed over an existing one to disk
            # (auto_da_alloc), 120–470 µs per page stored after every change; a reader in
            # between finds no file, which is a miss.
            with contextlib.suppress(FileNotFoundError):
                os.unlink(fname)
            os.replace(tmp_path, fname)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.remove(tmp_path)
            raise

    def _write_content(self, file, timeout, value):
        expiry = self.get_backend_timeout(timeout)
        file.write(pickle.dumps(expiry, self.pickle_protocol))
        file.write(pickle.dumps(value, self.pickle_protocol))

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            with open(self._key_to_file(key, version), "r+b") as f:
                try:
                    locks.lock(f, locks.LOCK_EX)
                    if self._is_expired(f):
                        return False
                    previous_value = pickle.loads(f.read())
                    f.seek(0)
                    f.truncate()
                    self._write_content(f, timeout, previous_value)
                    return True
                finally:
                    locks.unlock(f)
        except FileNotFoundError:
            return False

    def _cull(self):
        self._writes_since_cull_check += 1
        if self._writes_since_cull_check < CULL_CHECK_EVERY:
            return
        self._writes_since_cull_check = 0
        super()._cull()

    def clear(self):
        super().clear()
        for name in glob.glob(f"*{_OLD_SUFFIX}", root_dir=self._dir):
            self._delete(os.path.join(self._dir, name))

"""A client for arXiv's export API (https://info.arxiv.org/help/api/user-manual.html).

- One GET per batch of up to 50 ids (``id_list``), against ``settings.ARXIV_API_URL``.
- At most one request every ``ARXIV_MIN_INTERVAL`` seconds (3, as arXiv's terms ask), kept
  through the cache, so all processes sharing it (REDIS_URL) keep the same spacing.
- A timeout, and retries with exponential back-off (or the server's ``Retry-After``) on 429,
  503 and connection errors.
- A User-Agent naming the site.
- Every failure is an ``ArxivError`` with a message an editor can act on. Parsing is separate
  (``parse_feed``) so the benchmark and tests can feed it recorded responses.
"""

import html
import http.client
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from papers.arxiv_ids import arxiv_version, parse_arxiv_id

BATCH_SIZE = 50
MAX_RESPONSE_BYTES = 20 * 1024 * 1024
NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "arxiv": "http://arxiv.org/schemas/atom",
    "opensearch": "http://a9.com/-/spec/opensearch/1.1/",
}
_ABS_ID = re.compile(r"arxiv\.org/abs/(?P<id>.+)$")


class ArxivError(Exception):
    """arXiv could not give us what we asked for; the message says what happened."""


@dataclass
class ArxivRecord:
    """One paper as arXiv describes it (the fields we store, normalised)."""

    arxiv_id: str
    version: int | None
    title: str
    authors: list[str]
    affiliations: list[str]
    abstract: str
    primary_category: str
    categories: list[str]  # cross-lists, without the primary one
    published_on: str  # ISO dates
    updated_on: str
    comment: str = ""
    journal_ref: str = ""
    doi: str = ""
    abs_url: str = ""
    pdf_url: str = ""
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def normalise_text(text: str | None) -> str:
    """Collapse whitespace (arXiv wraps lines) and decode entities left in the text."""
    return re.sub(r"\s+", " ", html.unescape(text or "")).strip()


def _text(element, path: str) -> str:
    found = element.find(path, NS)
    return normalise_text(found.text if found is not None else "")


def parse_feed(body: bytes, content_type: str = "") -> list[ArxivRecord]:
    """An Atom response -> records, or ArxivError for HTML, truncated XML or error entries."""
    head = body[:512].lstrip().lower()
    if "html" in content_type.lower() or head.startswith((b"<!doctype html", b"<html")):
        raise ArxivError(
            _(
                "arXiv answered with a web page instead of data (it may be blocking this "
                "server or down for maintenance). Try again later."
            )
        )
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise ArxivError(
            _("arXiv's answer was cut off or is not valid XML (%(error)s). Try again.")
            % {"error": exc}
        ) from None
    if root.tag != f"{{{NS['atom']}}}feed":
        raise ArxivError(_("arXiv's answer is not an Atom feed."))
    records = []
    for entry in root.findall("atom:entry", NS):
        entry_id = _text(entry, "atom:id")
        if "api/errors" in entry_id or _text(entry, "atom:title") == "Error":
            raise ArxivError(
                _("arXiv refused the request: %(message)s")
                % {"message": _text(entry, "atom:summary") or entry_id}
            )
        match = _ABS_ID.search(entry_id)
        if not match or not _text(entry, "atom:title"):
            continue  # arXiv's empty placeholder for an id it does not know
        raw_id = match.group("id")
        try:
            arxiv_id = parse_arxiv_id(raw_id)
        except ValidationError:
            raise ArxivError(_("arXiv returned an entry with an unreadable id.")) from None
        authors, affiliations = [], []
        for author in entry.findall("atom:author", NS):
            name = _text(author, "atom:name")
            if name:
                authors.append(name)
            for affiliation in author.findall("arxiv:affiliation", NS):
                value = normalise_text(affiliation.text)
                if value and value not in affiliations:
                    affiliations.append(value)
        primary = entry.find("arxiv:primary_category", NS)
        primary_code = primary.get("term", "") if primary is not None else ""
        categories = []
        for category in entry.findall("atom:category", NS):
            term = category.get("term", "")
            if term and term != primary_code and term not in categories:
                categories.append(term)
        if not primary_code and categories:
            primary_code = categories.pop(0)
        if not primary_code:
            raise ArxivError(_("arXiv's entry for %(id)s has no category.") % {"id": arxiv_id})
        pdf_url = ""
        abs_url = ""
        for link in entry.findall("atom:link", NS):
            if link.get("title") == "pdf":
                pdf_url = link.get("href", "")
            elif link.get("rel") == "alternate":
                abs_url = link.get("href", "")
        records.append(
            ArxivRecord(
                arxiv_id=arxiv_id,
                version=arxiv_version(raw_id),
                title=_text(entry, "atom:title"),
                authors=authors,
                affiliations=affiliations,
                abstract=_text(entry, "atom:summary"),
                primary_category=primary_code,
                categories=categories,
                published_on=_text(entry, "atom:published")[:10],
                updated_on=_text(entry, "atom:updated")[:10],
                comment=_text(entry, "arxiv:comment"),
                journal_ref=_text(entry, "arxiv:journal_ref"),
                doi=_text(entry, "arxiv:doi"),
                abs_url=abs_url or f"https://arxiv.org/abs/{arxiv_id}",
                pdf_url=pdf_url or f"https://arxiv.org/pdf/{arxiv_id}",
            )
        )
    return records


class _RateLimiter:
    """At most one request per interval. The next allowed start time is kept in the cache,
    so with a shared cache (REDIS_URL) every process of the site honours the same spacing;
    the lock serialises threads of this process."""

    CACHE_KEY = "papers:arxiv:next-request-at"

    def __init__(self):
        self.lock = threading.Lock()

    def wait(self, interval: float, sleep: Callable[[float], None]) -> None:
        if interval <= 0:
            return
        with self.lock:
            next_at = cache.get(self.CACHE_KEY) or 0
            now = time.time()
            if next_at > now:
                sleep(next_at - now)
            start = max(now, next_at)
            cache.set(self.CACHE_KEY, start + interval, timeout=int(interval) + 60)


RATE_LIMITER = _RateLimiter()


class ArxivClient:
    """Fetch records by id. ``fetch(ids)`` returns ``{versionless id: record}`` and raises
    ArxivError when arXiv fails or does not know one of the ids."""

    def __init__(
        self,
        *,
        base_url=None,
        timeout=None,
        min_interval=None,
        max_retries=None,
        backoff=None,
        sleep=time.sleep,
    ):
        self.base_url = base_url or settings.ARXIV_API_URL
        self.timeout = settings.ARXIV_TIMEOUT if timeout is None else timeout
        self.min_interval = settings.ARXIV_MIN_INTERVAL if min_interval is None else min_interval
        self.max_retries = settings.ARXIV_MAX_RETRIES if max_retries is None else max_retries
        self.backoff = settings.ARXIV_BACKOFF if backoff is None else backoff
        self.sleep = sleep
        self.requests_made = 0

    def fetch(self, ids: Iterable[str], progress=None) -> dict[str, ArxivRecord]:
        wanted = []
        for value in ids:
            try:
                arxiv_id = parse_arxiv_id(value)
            except ValidationError as exc:
                raise ArxivError(" ".join(exc.messages)) from None
            if arxiv_id not in wanted:
                wanted.append(arxiv_id)
        found = {}
        for start in range(0, len(wanted), BATCH_SIZE):
            batch = wanted[start : start + BATCH_SIZE]
            for record in self._query(batch):
                if record.arxiv_id in batch:
                    found[record.arxiv_id] = record
            if progress:
                progress(min(start + BATCH_SIZE, len(wanted)), len(wanted))
        missing = [arxiv_id for arxiv_id in wanted if arxiv_id not in found]
        if missing:
            raise ArxivError(
                _("arXiv has no paper %(ids)s. Check the id.") % {"ids": ", ".join(missing)}
            )
        return found

    def _query(self, batch: list[str]) -> list[ArxivRecord]:
        query = urllib.parse.urlencode({"id_list": ",".join(batch), "max_results": len(batch)})
        url = f"{self.base_url}?{query}"
        request = urllib.request.Request(
            url,
            headers={"User-Agent": settings.ARXIV_USER_AGENT, "Accept": "application/atom+xml"},
        )
        attempt = 0
        while True:
            RATE_LIMITER.wait(self.min_interval, self.sleep)
            self.requests_made += 1
            retry_after = None
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    body = response.read(MAX_RESPONSE_BYTES + 1)
                    content_type = response.headers.get("Content-Type", "")
                if len(body) > MAX_RESPONSE_BYTES:
                    raise ArxivError(_("arXiv's answer is unexpectedly large; nothing was read."))
                return parse_feed(body, content_type)
            except urllib.error.HTTPError as exc:
                if exc.code not in (429, 503):
                    raise ArxivError(
                        _("arXiv answered with HTTP %(status)d.") % {"status": exc.code}
                    ) from None
                failure = _("arXiv is busy (HTTP %(status)d).") % {"status": exc.code}
                retry_after = _retry_after(exc.headers.get("Retry-After"))
            except TimeoutError:
                failure = _("arXiv did not answer within %(seconds)g seconds.") % {
                    "seconds": self.timeout
                }
            except urllib.error.URLError as exc:
                if isinstance(exc.reason, TimeoutError | socket.timeout):
                    failure = _("arXiv did not answer within %(seconds)g seconds.") % {
                        "seconds": self.timeout
                    }
                else:
                    failure = _("Could not reach arXiv (%(reason)s).") % {"reason": exc.reason}
            except (ConnectionError, OSError, http.client.HTTPException) as exc:
                failure = _("Could not reach arXiv (%(reason)s).") % {"reason": exc}
            if attempt >= self.max_retries:
                raise ArxivError(
                    failure + " " + _("Gave up after %(n)d attempts.") % {"n": attempt + 1}
                )
            delay = retry_after if retry_after is not None else self.backoff * (2**attempt)
            self.sleep(min(delay, 60))
            attempt += 1


def _retry_after(value) -> float | None:
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return None

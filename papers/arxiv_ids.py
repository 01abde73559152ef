"""arXiv identifiers: parse anything an editor might paste, store it versionless.

Two schemes exist (https://info.arxiv.org/help/arxiv_identifier.html):
- new (April 2007 on): ``YYMM.NNNN`` until 2014, ``YYMM.NNNNN`` from 2015, e.g. ``2509.22445``;
- old: ``archive(.SUBJECT)/YYMMNNN``, e.g. ``hep-th/9901001``, ``math.CA/0611800``.
Either may carry a version (``v2``) and arrive as ``arXiv:...`` or an abs/pdf URL.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_NEW = r"(?P<new>(?P<yy>\d{2})(?P<mm>\d{2})\.(?P<num>\d{4,5}))"
_OLD = (
    r"(?P<old>(?P<archive>[a-z]+(?:-[a-z]+)*)(?:\.(?P<subject>[A-Z]{2}))?"
    r"/(?P<oyy>\d{2})(?P<omm>\d{2})\d{3})"
)
_ID_RE = re.compile(rf"^(?:{_NEW}|{_OLD})(?:v(?P<version>[1-9]\d*))?$")
_PREFIX_RE = re.compile(
    r"^(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/", flags=re.IGNORECASE
)

INVALID_MESSAGE = _(
    "“%(value)s” is not an arXiv identifier. Use the form 2509.22445 (or 2509.22445v2, "
    "hep-th/9901001, an arxiv.org/abs/ link)."
)


def parse_arxiv_id(value: str) -> str:
    """Return the versionless identifier for ``value`` or raise ``ValidationError``."""
    text = (value or "").strip()
    text = _PREFIX_RE.sub("", text)
    if text.lower().startswith("arxiv:"):
        text = text[len("arxiv:") :]
    text = text.strip().removesuffix("/")
    if text.lower().endswith(".pdf"):
        text = text[:-4]
    match = _ID_RE.match(text)
    if match is None:
        raise ValidationError(INVALID_MESSAGE, code="invalid_arxiv_id", params={"value": value})
    if match.group("new"):
        month, number = int(match.group("mm")), match.group("num")
        year = int(match.group("yy"))
        # Five-digit numbers start in 2015; four-digit ones end with 2014.
        if not 1 <= month <= 12 or (len(number) == 5) != (year >= 15) or (year, month) < (7, 4):
            raise ValidationError(INVALID_MESSAGE, code="invalid_arxiv_id", params={"value": value})
        return match.group("new")
    month = int(match.group("omm"))
    if not 1 <= month <= 12:
        raise ValidationError(INVALID_MESSAGE, code="invalid_arxiv_id", params={"value": value})
    return match.group("old")


def arxiv_version(value: str) -> int | None:
    """The version number in ``value`` (``2509.22445v2`` -> 2), or None."""
    match = re.search(r"v([1-9]\d*)$", (value or "").strip().removesuffix(".pdf"))
    return int(match.group(1)) if match else None


# Used by URL converters: a stored (versionless) identifier of either scheme.
URL_PATTERN = r"\d{4}\.\d{4,5}|[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/\d{7}"

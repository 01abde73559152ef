"""The checks panel: what a careful editor checks before publishing, run on the content as
typed (the preview's entries): empty sections, a missing abstract or arXiv link, figures
without alt text, source or licence, a paper featured in a recent digest, an author list
shortened without "…"."""

import datetime
from dataclasses import dataclass

from django.utils.translation import gettext as _

from editorial.services import entry_key, figure_key
from papers.models import Digest, Entry

# A paper in another digest within this many days of this one's issue date is "recent".
RECENT_DAYS = 30
ELLIPSIS = "…"


@dataclass
class Check:
    """One problem: what it is, in the editor's words, and the field to go to."""

    code: str
    text: str
    field: str = ""


def _label(entry) -> str:
    paper = entry.paper
    return _("Paper %(n)d (%(id)s)") % {
        "n": entry.position,
        "id": paper.arxiv_id or paper.source_label or _("no link"),
    }


def _recent(digest: Digest, entries) -> dict:
    """Paper id -> the other live digests within RECENT_DAYS that feature it (one query)."""
    near = datetime.timedelta(days=RECENT_DAYS)
    rows = (
        Entry.objects.published()
        .filter(
            paper_id__in=[entry.paper_id for entry in entries],
            digest__issue_date__gte=digest.issue_date - near,
            digest__issue_date__lte=digest.issue_date + near,
        )
        # Not this digest, nor (for a working copy) the live digest it will replace.
        .exclude(digest_id__in=[digest.pk, digest.working_copy_of_id or digest.pk])
        .select_related("digest")
        .order_by("-digest__issue_date")
    )
    found = {}
    for row in rows:
        found.setdefault(row.paper_id, []).append(row.digest)
    return found


def _shortened(paper) -> str | None:
    """How the author list is cut when it is shorter than arXiv's and lacks the "…" mark."""
    if paper.authors_shortened:  # the page prints its "…" (set by the importer)
        return None
    authors = paper.author_list
    full = [line for line in str(paper.arxiv_snapshot.get("authors", "")).splitlines() if line]
    last = authors[-1] if authors else ""
    if last.endswith(ELLIPSIS):
        return None
    if last.lower().rstrip(".") in ("et al", "...", "") and len(authors) > 1:
        return last
    if full and len(authors) < len(full):
        return last
    return None


def run_checks(digest: Digest, entries, kinds) -> list[Check]:
    """The problems of ``digest`` with ``entries`` as the preview holds them (their sections
    and figures in memory), in page order."""
    found = []
    recent = _recent(digest, entries)
    for entry in entries:
        label, paper = _label(entry), entry.paper
        have = {section.kind_id for section in entry.sections.all() if section.body.strip()}
        # An item not on arXiv (news) is no paper critique: one section of any kind will do.
        wanted = kinds if paper.arxiv_id or not have else []
        for kind in wanted:
            if kind.pk not in have:
                found.append(
                    Check(
                        "section",
                        _("%(paper)s: the section %(name)s is missing or empty.")
                        % {"paper": label, "name": kind.name_zh},
                        entry_key(entry.pk, f"s-{kind.slug}"),
                    )
                )
        if paper.arxiv_id and not paper.abstract.strip():
            found.append(Check("abstract", _("%(paper)s has no abstract.") % {"paper": label}))
        # No "missing link" check: every paper has an arXiv id or, for an item not on arXiv,
        # its source link (the paper_arxiv_id_or_source_url constraint).
        for figure in entry.figures.all():
            missing = [
                (name, text)
                for name, text in (
                    ("alt_text", _("alt text")),
                    ("source_url", _("source")),
                    ("licence", _("licence")),
                )
                if not getattr(figure, name).strip()
            ]
            if missing:
                found.append(
                    Check(
                        "figure",
                        _("%(paper)s, figure %(n)d: no %(what)s.")
                        % {
                            "paper": label,
                            "n": figure.position,
                            "what": ", ".join(text for _name, text in missing),
                        },
                        figure_key(figure.pk, missing[0][0]),
                    )
                )
        for other in recent.get(entry.paper_id, []):
            found.append(
                Check(
                    "recent",
                    _("%(paper)s was already featured in %(digest)s.")
                    % {"paper": label, "digest": str(other)},
                )
            )
        last = _shortened(paper)
        if last is not None:
            found.append(
                Check(
                    "authors",
                    _(
                        "%(paper)s: the author list is shortened (ends with “%(last)s”) "
                        "without “…”; add “…” or the full list on the paper."
                    )
                    % {"paper": label, "last": last},
                )
            )
    return found

"""Create the rows of a parsed digest in one transaction: a draft digest, its papers (new
ones created, known ones reused), entries, sections and placeholder figures."""

from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from comments.models import Comment
from editorial import services
from editorial.importing.common import DigestImportError, ParsedDigest
from papers.changes import content_changed
from papers.models import Category, Digest, Entry, Figure, Paper, Section
from reading.search import refresh_entries

DEFAULT_CATEGORY = "cs.AI"
SLUG_PREFIX = "ai-frontier"  # as the demo and the site's addresses: ai-frontier-2025-09-30


@dataclass
class WriteResult:
    digest: Digest
    created_papers: list[str] = field(default_factory=list)
    reused_papers: list[str] = field(default_factory=list)
    replaced: bool = False
    published: bool = False
    dry_run: bool = False


def digest_slug(parsed: ParsedDigest) -> str:
    """Imported digests are addressed by date; one digest per date and slug."""
    return f"{SLUG_PREFIX}-{parsed.issue_date:%Y-%m-%d}"


def _categories_for(parsed: ParsedDigest, existing: dict) -> dict:
    """The primary Category of each entry, from its tag ([LG] -> cs.LG)."""
    categories = list(Category.objects.all())
    result = {}
    for entry in parsed.entries:
        if not entry.tag:
            paper = existing.get(entry.arxiv_id)
            if paper is not None:
                result[entry.position] = paper.primary_category
                continue
            fallback = next((c for c in categories if c.code == DEFAULT_CATEGORY), None)
            if fallback is None:
                raise DigestImportError(
                    _("Paper %(n)d has no category tag such as [LG].") % {"n": entry.position},
                    line=entry.line,
                )
            parsed.report.warn(
                entry.line,
                _(
                    "Paper %(n)d has no category tag; filed under %(code)s until it is fetched "
                    "from arXiv."
                )
                % {"n": entry.position, "code": DEFAULT_CATEGORY},
            )
            result[entry.position] = fallback
            continue
        tag = entry.tag.casefold()
        if "." in tag:
            matches = [c for c in categories if c.code.casefold() == tag]
        else:
            matches = [c for c in categories if c.short_code.casefold() == tag]
            matches.sort(key=lambda c: (not c.code.startswith("cs."), c.code))
        if not matches:
            raise DigestImportError(
                _("Unknown category tag [%(tag)s]: add the category in the admin first.")
                % {"tag": entry.tag},
                line=entry.line,
            )
        result[entry.position] = matches[0]
    return result


def write_digest(
    parsed: ParsedDigest, *, by=None, publish=False, replace=False, dry_run=False
) -> WriteResult:
    """Store ``parsed`` as a draft (published when ``publish`` and ``by`` may publish).

    One transaction: any error leaves no digest, entry or paper behind. A digest for the same
    date and slug is refused, or with ``replace`` its draft is rewritten. ``dry_run`` does
    every write and check, then rolls back.
    """
    if publish:
        services.require_permission(by, services.PUBLISH_PERMISSION)
    seen = {}
    for entry in parsed.entries:
        if entry.arxiv_id in seen:
            raise DigestImportError(
                _("Paper %(n)d is the same arXiv paper (%(id)s) as paper %(first)d.")
                % {"n": entry.position, "id": entry.arxiv_id, "first": seen[entry.arxiv_id]},
                line=entry.line,
            )
        seen[entry.arxiv_id] = entry.position

    slug = digest_slug(parsed)
    with transaction.atomic():
        digest = (
            Digest.objects.select_for_update()
            .filter(issue_date=parsed.issue_date, slug=slug)
            .first()
        )
        result = WriteResult(digest=digest, dry_run=dry_run)
        if digest is not None:
            if not replace:
                raise DigestImportError(
                    _(
                        "A digest for %(date)s exists already (“%(title)s”). Nothing was "
                        "imported; use --replace (or “Replace the draft” on the import page) "
                        "to rewrite that draft."
                    )
                    % {"date": parsed.issue_date.isoformat(), "title": digest.title}
                )
            if digest.status != Digest.Status.DRAFT:
                raise DigestImportError(
                    _(
                        "The digest for %(date)s is “%(status)s”; only a draft can be replaced. "
                        "Unpublish it first."
                    )
                    % {
                        "date": parsed.issue_date.isoformat(),
                        "status": digest.get_status_display(),
                    }
                )
            commented = Comment.objects.filter(entry__digest=digest).count()
            if commented:
                raise DigestImportError(
                    _(
                        "The draft for %(date)s has %(count)d reader comments on its papers; "
                        "replacing it would delete them. Nothing was imported; edit the draft "
                        "in the admin instead."
                    )
                    % {"date": parsed.issue_date.isoformat(), "count": commented}
                )
            digest.entries.all().delete()
            digest.title = parsed.title[:200]
            digest.summary = parsed.summary
            digest.save()
            result.replaced = True
        else:
            digest = Digest.objects.create(
                title=parsed.title[:200],
                slug=slug,
                issue_date=parsed.issue_date,
                summary=parsed.summary,
                status=Digest.Status.DRAFT,
            )
            result.digest = digest

        existing = {
            p.arxiv_id: p
            for p in Paper.objects.select_related("primary_category").filter(
                arxiv_id__in=[e.arxiv_id for e in parsed.entries]
            )
        }
        primary = _categories_for(parsed, existing)
        entries, sections, figures = [], [], []
        for item in parsed.entries:
            paper = existing.get(item.arxiv_id)
            if paper is None:
                paper = Paper.objects.create(
                    arxiv_id=item.arxiv_id,
                    title=item.title[:500],
                    authors="\n".join(item.authors),
                    affiliations="\n".join(item.affiliations),
                    abstract=item.abstract,
                    primary_category=primary[item.position],
                )
                result.created_papers.append(paper.arxiv_id)
            else:
                _fill_blanks(paper, item)
                result.reused_papers.append(paper.arxiv_id)
            entry = Entry(
                digest=digest,
                paper=paper,
                position=item.position,
                title_zh=item.title_zh,
                unplaced_text=item.unplaced_text,
            )
            entries.append(entry)
            for parsed_section in item.sections:
                if parsed_section.body:
                    section = Section(
                        entry=entry, kind=parsed_section.kind, body=parsed_section.body
                    )
                    section.render()
                    sections.append(section)
            figures += [
                Figure(
                    entry=entry,
                    position=number,
                    caption=figure.caption,
                    source_url=figure.source_url[:200],
                    placeholder=figure.placeholder,
                )
                for number, figure in enumerate(item.figures, start=1)
            ]
        # In bulk (a query per kind of row), then the entries' search rows in one go: bulk
        # writes send no signals.
        Entry.objects.bulk_create(entries)
        for row in (*sections, *figures):
            row.entry_id = row.entry.pk
        Section.objects.bulk_create(sections)
        Figure.objects.bulk_create(figures)
        refresh_entries([entry.pk for entry in entries])
        # The workflow's history: an audit record and a first revision (or a new revision
        # when the draft was rewritten), as for a digest made in the admin.
        if result.replaced:
            services.revision_record(digest=digest, by=by, message=_("Imported again (replaced)"))
        else:
            services.digest_record_creation(digest=digest, by=by, message=_("Imported"))
        if publish:
            result.digest = services.digest_publish(digest=digest, by=by)
            result.published = True
        if dry_run:
            transaction.set_rollback(True)
    return result


def _fill_blanks(paper: Paper, item) -> None:
    """A paper already in the database keeps its facts (editors or arXiv wrote them); the
    digest only fills fields that are empty."""
    changed = []
    for name, value in (
        ("authors", "\n".join(item.authors)),
        ("affiliations", "\n".join(item.affiliations)),
        ("abstract", item.abstract),
    ):
        if value and not getattr(paper, name).strip():
            setattr(paper, name, value)
            changed.append(name)
    if changed:
        paper.save(update_fields=[*changed, "updated_at"])
        content_changed()  # the paper may be in published digests

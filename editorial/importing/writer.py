"""Store a planned import in one transaction: a draft digest (or its rewritten draft), its
papers (new ones created, known ones reused), entries, sections and placeholder figures."""

from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from editorial import services
from editorial.importing.common import ParsedDigest
from editorial.importing.plan import ImportPlan, digest_fields, plan_import
from papers.changes import content_changed
from papers.models import Digest, Entry, Figure, Paper, Section
from reading.search import refresh_entries


@dataclass
class WriteResult:
    digest: Digest  # with ``dry_run``, the digest the import would write (a new one unsaved)
    created_papers: list[str] = field(default_factory=list)
    reused_papers: list[str] = field(default_factory=list)
    replaced: bool = False
    published: bool = False
    dry_run: bool = False
    plan: ImportPlan | None = None


def write_digest(
    parsed: ParsedDigest, *, by=None, publish=False, replace=False, dry_run=False
) -> WriteResult:
    """Store ``parsed`` as a draft (published when ``publish`` and ``by`` may publish).

    One transaction: any error leaves no digest, entry or paper behind. A digest for the same
    date and slug is refused, or with ``replace`` its draft is rewritten. ``dry_run`` makes
    every check (``plan_import``) and writes nothing.
    """
    if dry_run:
        return _result(plan_import(parsed, by=by, publish=publish, replace=replace), dry_run=True)
    with transaction.atomic():
        plan = plan_import(parsed, by=by, publish=publish, replace=replace, lock=True)
        _store(plan, by=by)
        result = _result(plan)
        if plan.publish:
            result.digest = services.digest_publish(digest=plan.digest, by=by)
    return result


def _result(plan: ImportPlan, *, dry_run=False) -> WriteResult:
    return WriteResult(
        digest=plan.digest,
        created_papers=plan.created_papers,
        reused_papers=plan.reused_papers,
        replaced=plan.replaces,
        published=plan.publish,
        dry_run=dry_run,
        plan=plan,
    )


def _store(plan: ImportPlan, *, by) -> None:
    digest = plan.digest
    if plan.replaces:
        digest.entries.all().delete()
        for name, value in digest_fields(plan.parsed).items():
            setattr(digest, name, value)
    digest.save()
    # New papers in one bulk insert: a new paper is in no entry yet, so it has no search row
    # for a signal to refresh (the entries' rows are built below).
    new_papers = Paper.objects.bulk_create(
        [Paper(**row.new_paper) for row in plan.entries if row.is_new]
    )
    papers = iter(new_papers)
    filled = False
    entries, sections, figures = [], [], []
    for row in plan.entries:
        if row.is_new:
            paper = next(papers)
        else:
            paper = row.paper
            if row.fills:
                # A known paper keeps its facts (editors or arXiv wrote them); the digest only
                # fills fields that are empty.
                for name, value in row.fills.items():
                    setattr(paper, name, value)
                paper.save(update_fields=[*row.fills, "updated_at"])
                filled = True
        entry = Entry(digest=digest, paper=paper, **row.entry)
        entries.append(entry)
        for kind, body in row.sections:
            section = Section(entry=entry, kind=kind, body=body)
            section.render()
            sections.append(section)
        figures += [Figure(entry=entry, **values) for values in row.figures]
    if filled:
        content_changed()  # those papers may be in published digests
    # In bulk (a query per kind of row), then the entries' search rows in one go: bulk
    # writes send no signals.
    Entry.objects.bulk_create(entries)
    for child in (*sections, *figures):
        child.entry_id = child.entry.pk
    Section.objects.bulk_create(sections)
    Figure.objects.bulk_create(figures)
    for entry, row in zip(entries, plan.entries, strict=True):
        if row.tags:  # 类型 labels of another site's digest, as the entry's topic tags
            entry.tags.add(*row.tags)
    refresh_entries([entry.pk for entry in entries])
    # The workflow's history: an audit record and a first revision (or a new revision when
    # the draft was rewritten), as for a digest made in the admin.
    if plan.replaces:
        services.revision_record(digest=digest, by=by, message=_("Imported again (replaced)"))
    else:
        services.digest_record_creation(digest=digest, by=by, message=_("Imported"))

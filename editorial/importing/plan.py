"""What importing a parsed digest would do, found by reading alone: the digest it creates or
the draft it rewrites, each paper new or known (and which empty fields of a known paper it
fills), the values of every row it would store, and every reason it would refuse the import.

``plan_import`` writes nothing, so the preview is this plan: a fixed number of read queries
whatever the number of papers. ``write_digest`` makes the same plan inside its transaction,
with the digest row locked, and stores exactly its rows: preview and import share every check
and cannot disagree."""

import datetime
import functools
from dataclasses import dataclass, field

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from comments.models import Comment
from editorial import services
from editorial.importing.common import DigestImportError, Note, ParsedDigest, ParsedEntry
from papers.models import Category, Digest, Entry, Figure, Paper, SectionKind

DEFAULT_CATEGORY = "cs.AI"
SLUG_PREFIX = "ai-frontier"  # as the demo and the site's addresses: ai-frontier-2025-09-30
# The facts a digest may give a known paper, only where the paper has none (editors or arXiv
# wrote the rest).
FILLABLE = ("authors", "affiliations", "abstract", "code_url", "project_url")


@dataclass
class PlannedEntry:
    """One paper of the digest as the import would store it: the values of its rows, which
    the writer gives to the models as they are (plain values: a preview makes no instance of
    the thousands of rows a large paste has)."""

    item: ParsedEntry
    category: Category  # a new paper's primary category, or the known paper's own
    paper: Paper | None  # the known paper, or None: a new one
    new_paper: dict = field(default_factory=dict)  # a new paper's fields
    fills: dict[str, str | bool] = field(default_factory=dict)  # known paper: empty field -> value
    entry: dict = field(default_factory=dict)  # the entry's fields (but digest and paper)
    sections: list[tuple[SectionKind, str]] = field(default_factory=list)  # kind, body
    figures: list[dict] = field(default_factory=list)  # each figure's fields (but entry)
    tags: list[str] = field(default_factory=list)  # the item's 类型 labels

    @property
    def is_new(self) -> bool:
        return self.paper is None

    @property
    def arxiv_id(self) -> str:
        return self.item.arxiv_id

    @property
    def key(self) -> str:
        """What identifies the paper: its arXiv id, or the link of an item not on arXiv."""
        return item_key(self.item)

    @property
    def fill_labels(self) -> list[str]:
        return [str(Paper._meta.get_field(name).verbose_name) for name in self.fills]


@dataclass
class ImportPlan:
    """What importing ``parsed`` would do; the preview shows it, the writer stores it."""

    parsed: ParsedDigest
    digest: Digest  # the draft to rewrite (with ``replaces``), or a new digest not saved yet
    entries: list[PlannedEntry]
    replaces: bool = False
    replaced_entries: int = 0  # entries of that draft the import deletes
    publish: bool = False
    go_live: datetime.datetime | None = None  # when published: a future time schedules it

    @property
    def created_papers(self) -> list[str]:
        return [row.key for row in self.entries if row.is_new]

    @property
    def reused_papers(self) -> list[str]:
        return [row.key for row in self.entries if not row.is_new]

    @property
    def filled_papers(self) -> list[str]:
        return [row.key for row in self.entries if row.fills]

    @property
    def scheduled(self) -> bool:
        return self.publish and self.go_live is not None and self.go_live > timezone.now()


def item_key(item: ParsedEntry) -> str:
    """A parsed paper's identity: its arXiv id, or its link when it is not on arXiv."""
    return item.arxiv_id or item.source_url


def _known_papers(parsed: ParsedDigest) -> dict:
    """The papers already stored for the parsed ones, by ``item_key``: arXiv papers by id,
    link-sourced items by their link (so a re-import reuses them). Two queries at most."""
    ids = [e.arxiv_id for e in parsed.entries if e.arxiv_id]
    links = [e.source_url for e in parsed.entries if not e.arxiv_id]
    found = {}
    papers = Paper.objects.select_related("primary_category")
    if ids:
        found.update((p.arxiv_id, p) for p in papers.filter(arxiv_id__in=ids))
    if links:
        found.update(
            (p.source_url, p) for p in papers.filter(arxiv_id__isnull=True, source_url__in=links)
        )
    return found


def digest_slug(parsed: ParsedDigest) -> str:
    """Imported digests are addressed by date; one digest per date and slug."""
    return f"{SLUG_PREFIX}-{parsed.issue_date:%Y-%m-%d}"


def digest_fields(parsed: ParsedDigest) -> dict:
    """The fields of the digest the import sets, on a new digest or a rewritten draft."""
    return {"title": parsed.title[:200], "summary": parsed.summary}


def plan_import(
    parsed: ParsedDigest, *, by=None, publish=False, replace=False, lock=False
) -> ImportPlan:
    """Check ``parsed`` against the database and return what its import would store; raise
    DigestImportError (or PermissionDenied) for anything the import would refuse.

    Reads only, whatever the number of papers: the digest of that date (and, to rewrite a
    draft, its comments and entries), the known papers, the categories, and the permission
    to publish when asked to. ``lock`` (the writer, inside its transaction) locks the digest
    row of that date and slug.
    """
    if publish:
        services.require_permission(by, services.PUBLISH_PERMISSION)
    _check_duplicates(parsed)
    digest, replaced_entries = _digest(parsed, replace=replace, lock=lock)
    existing = _known_papers(parsed)
    primary = _categories_for(parsed, existing)
    entries = [_planned_entry(item, existing, primary) for item in parsed.entries]
    plan = ImportPlan(
        parsed=parsed,
        digest=digest,
        entries=entries,
        replaces=replaced_entries is not None,
        replaced_entries=replaced_entries or 0,
    )
    if publish:
        plan.publish = True
        plan.go_live = _go_live(parsed, digest)
    return plan


def _check_duplicates(parsed: ParsedDigest) -> None:
    seen = {}
    for entry in parsed.entries:
        key = item_key(entry)
        if key in seen:
            raise DigestImportError(
                _("Paper %(n)d is the same paper (%(id)s) as paper %(first)d.")
                % {"n": entry.position, "id": key, "first": seen[key]},
                line=entry.line,
            )
        seen[key] = entry.position


def _digest(parsed: ParsedDigest, *, replace: bool, lock: bool) -> tuple[Digest, int | None]:
    """The digest the import writes: the draft of that date to rewrite (and how many entries
    it loses), or a new one."""
    found = Digest.objects.originals().filter(
        issue_date=parsed.issue_date, slug=digest_slug(parsed)
    )
    if lock:
        found = found.select_for_update()
    digest = found.first()
    if digest is None:
        return Digest(
            slug=digest_slug(parsed),
            issue_date=parsed.issue_date,
            status=Digest.Status.DRAFT,
            **digest_fields(parsed),
        ), None
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
            % {"date": parsed.issue_date.isoformat(), "status": digest.get_status_display()}
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
    return digest, digest.entries.count()


def _warn_once(parsed: ParsedDigest, line, message) -> None:
    # Planning twice (the writer's own check after a preview of the same parse) warns once.
    if Note(line, message) not in parsed.report.warnings:
        parsed.report.warn(line, message)


def _categories_for(parsed: ParsedDigest, existing: dict) -> dict:
    """The primary Category of each entry, from its tag ([LG] -> cs.LG)."""
    categories = list(Category.objects.all())
    result = {}
    for entry in parsed.entries:
        if not entry.tag:
            paper = existing.get(item_key(entry))
            if paper is not None:
                result[entry.position] = paper.primary_category
                continue
            fallback = next((c for c in categories if c.code == DEFAULT_CATEGORY), None)
            if fallback is None:
                raise DigestImportError(
                    _("Paper %(n)d has no category tag such as [LG].") % {"n": entry.position},
                    line=entry.line,
                )
            if entry.source_url:
                # An item not on arXiv has no category of its own: filed under the default,
                # as the preview and the report show ([cs.AI]), without a warning per item.
                result[entry.position] = fallback
                continue
            _warn_once(
                parsed,
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


def _planned_entry(item: ParsedEntry, existing: dict, primary: dict) -> PlannedEntry:
    paper = existing.get(item_key(item))
    values = dict(zip(FILLABLE, _fillable_values(item), strict=True))
    row = PlannedEntry(
        item=item,
        category=primary[item.position] if paper is None else paper.primary_category,
        paper=paper,
        entry={
            "position": item.position,
            "title_zh": item.title_zh,
            "unplaced_text": item.unplaced_text,
        },
        sections=[(s.kind, body) for s in item.sections if (body := s.body)],
        figures=[
            {
                "position": number,
                "caption": figure.caption,
                "source_url": figure.source_url,
                "placeholder": figure.placeholder,
            }
            for number, figure in enumerate(item.figures, start=1)
        ],
        tags=[label[:100] for label in item.labels],
    )
    if paper is None:
        row.new_paper = {
            "arxiv_id": item.arxiv_id or None,
            "source_url": "" if item.arxiv_id else item.source_url,
            "title": item.title,
            **values,
            "authors_shortened": item.authors_truncated and bool(item.authors),
            "primary_category": row.category,
        }
        _check_fits(Paper, row.new_paper, item)
    else:
        row.fills = {
            name: value
            for name, value in values.items()
            if value and not getattr(paper, name).strip()
        }
        if "authors" in row.fills and item.authors_truncated:
            # The digest's "…" (dropped from the names) is kept as a flag, so pages show it.
            row.fills["authors_shortened"] = True
    _check_fits(Entry, row.entry, item)
    for figure in row.figures:
        _check_fits(Figure, figure, item)
    return row


def _fillable_values(item: ParsedEntry) -> tuple[str, ...]:
    return (
        "\n".join(item.authors),
        "\n".join(item.affiliations),
        item.abstract,
        item.code_url,
        item.project_url,
    )


@functools.cache
def _limits(model) -> list[tuple[str, int, str]]:
    """The model's text columns of limited length: (name, length, label)."""
    return [
        (f.name, f.max_length, f.verbose_name)
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField) and f.max_length
    ]


def _check_fits(model, values: dict, item: ParsedEntry) -> None:
    """Every text the import stores fits its column (PostgreSQL refuses a longer one): a
    longer one is refused with its line, never cut."""
    for name, limit, label in _limits(model):
        value = values.get(name)
        if isinstance(value, str) and len(value) > limit:
            line = item.title_zh_line if name == "title_zh" and item.title_zh_line else item.line
            raise DigestImportError(
                _(
                    "Paper %(n)d: the %(field)s is %(length)d characters, longer than the "
                    "%(limit)d it may have (is a section run into it?). Nothing was cut or "
                    "imported: shorten it or add the line break it lost. It begins: %(start)s"
                )
                % {
                    "n": item.position,
                    "field": label,
                    "limit": limit,
                    "length": len(value),
                    "start": value[:60],
                },
                line=line,
            )


def _go_live(parsed: ParsedDigest, digest: Digest) -> datetime.datetime:
    """When a digest published on import goes live (a rewritten draft keeps a go-live time
    it was given), refusing what ``services.digest_publish`` would refuse."""
    now = timezone.now()
    go_live = digest.published_at or now
    if digest.expires_at and (digest.expires_at <= go_live or digest.expires_at <= now):
        raise DigestImportError(
            _(
                "The draft for %(date)s expires before it would go live: clear or move its "
                "expiry time in the admin, or import it without publishing."
            )
            % {"date": parsed.issue_date.isoformat()}
        )
    return go_live

"""The editorial back office. Editors write papers, digests and entries here; every state
change goes through editorial/services.py, which checks permission on the server."""

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import smart_split, unescape_string_literal
from django.utils.translation import gettext_lazy as _

from editorial import services, workflow
from editorial.admin.announce import AnnounceChangesMixin, DigestAnnounceMixin
from editorial.admin.importing import ArxivFetchMixin
from editorial.admin.workflow import (
    DigestWorkflowMixin,
    EntryWorkflowMixin,
    StaleEditFormMixin,
    WorkflowStateFilter,
)
from editorial.editor.admin import DigestEditorMixin
from editorial.exporting.views import DigestExportMixin
from papers.admin_scale import LargeTableAdminMixin, LeanChangeList
from papers.models import Category, Digest, Entry, Figure, Paper, Section, SectionKind, SiteSettings
from readership import counting


@admin.register(Category)
class CategoryAdmin(AnnounceChangesMixin, admin.ModelAdmin):
    renames_shared_names = True

    list_display = ["code", "short_code", "name", "name_zh"]
    search_fields = ["code", "name", "name_zh"]

    @admin.display(description=_("tag"))
    def short_code(self, obj):
        return obj.short_code


class PaperAdminForm(forms.ModelForm):
    code_url = forms.URLField(
        label=_("code"), required=False, assume_scheme="https", max_length=500
    )
    project_url = forms.URLField(
        label=_("project page"), required=False, assume_scheme="https", max_length=500
    )
    source_url = forms.URLField(
        label=_("source link"),
        required=False,
        assume_scheme="https",
        max_length=1000,
        help_text=Paper._meta.get_field("source_url").help_text,
    )

    class Meta:
        model = Paper
        fields = [
            "arxiv_id",
            "source_url",
            "title",
            "authors",
            "authors_shortened",
            "affiliations",
            "abstract",
            "primary_category",
            "categories",
            "published_on",
            "updated_on",
            "comment",
            "journal_ref",
            "doi",
            "code_url",
            "project_url",
        ]
        widgets = {
            "authors": forms.Textarea(attrs={"rows": 4}),
            "affiliations": forms.Textarea(attrs={"rows": 2}),
            "abstract": forms.Textarea(attrs={"rows": 8}),
        }

    def clean(self):
        cleaned = super().clean()
        primary = cleaned.get("primary_category")
        cross = cleaned.get("categories")
        if primary and cross and primary in cross:
            self.add_error(
                "categories", _("The primary category is listed already; pick other ones here.")
            )
        return cleaned


@admin.register(Paper)
class PaperAdmin(AnnounceChangesMixin, LargeTableAdminMixin, ArxivFetchMixin, admin.ModelAdmin):
    form = PaperAdminForm

    def has_change_permission(self, request, obj=None):
        """A paper's facts show on every digest presenting it: once one of them is on the
        site (published, scheduled or archived), only editors may change them."""
        if not super().has_change_permission(request, obj):
            return False
        if obj is None or workflow.is_editor(request.user):
            return True
        return not obj.entries.filter(digest__status__in=Digest.READABLE_STATES).exists()

    list_display = ["arxiv_id", "title", "primary_category", "published_on"]
    changelist_defer = (
        "abstract",
        "arxiv_snapshot",
        "authors",
        "affiliations",
        "comment",
        "journal_ref",
    )
    list_filter = ["primary_category"]
    list_select_related = ["primary_category"]
    search_fields = ["arxiv_id", "title", "authors", "affiliations"]
    autocomplete_fields = ["primary_category", "categories"]
    date_hierarchy = "published_on"
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "arxiv_id",
                    "source_url",
                    "title",
                    "authors",
                    "authors_shortened",
                    "affiliations",
                    "abstract",
                ]
            },
        ),
        (_("Links"), {"fields": ["code_url", "project_url"]}),
        (_("Categories"), {"fields": ["primary_category", "categories"]}),
        (
            _("Publication details"),
            {"fields": ["published_on", "updated_on", "comment", "journal_ref", "doi"]},
        ),
        (_("arXiv"), {"fields": ["arxiv_fetched_at"]}),
    ]
    readonly_fields = ["arxiv_fetched_at"]


class EntryInlineFormSet(forms.BaseInlineFormSet):
    """Entries of a digest, edited together. Positions and papers must be distinct among
    the rows kept; a reorder saves without colliding on the unique position constraint."""

    def clean(self):
        super().clean()
        positions, papers = {}, {}
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or not form.cleaned_data:
                continue
            if self.can_delete and self._should_delete_form(form):
                continue
            position, paper = form.cleaned_data.get("position"), form.cleaned_data.get("paper")
            if position is not None:
                if position in positions:
                    form.add_error("position", _("Two papers cannot share position %d.") % position)
                positions[position] = form
            if paper is not None:
                paper_key = getattr(paper, "pk", paper)
                if paper_key in papers:
                    form.add_error("paper", _("This paper is in the digest already."))
                papers[paper_key] = form

    def save_existing_objects(self, commit=True):
        moved = [
            form.instance.pk
            for form in self.initial_forms
            if form.instance.pk and "position" in form.changed_data
        ]
        services.entries_park_positions(moved)
        return super().save_existing_objects(commit)


class EntryInlineForm(forms.ModelForm):
    class Meta:
        model = Entry
        fields = ["position", "paper", "title_zh", "tags"]

    def _get_validation_exclusions(self):
        # Position uniqueness is checked across the whole formset (EntryInlineFormSet),
        # which also sees reorders; row by row against the database it would refuse a swap.
        exclusions = super()._get_validation_exclusions()
        exclusions.add("position")
        return exclusions


class EntryInline(admin.TabularInline):
    model = Entry
    form = EntryInlineForm
    formset = EntryInlineFormSet
    fields = ["position", "paper", "title_zh", "tags"]
    autocomplete_fields = ["paper"]
    extra = 0
    show_change_link = True
    ordering = ["position"]


class DigestChangeList(LeanChangeList):
    """The list shows each digest once: a working copy is reached from its live digest
    (whose state says "with unpublished changes")."""

    def get_queryset(self, request, exclude_parameters=None):
        return super().get_queryset(request, exclude_parameters).filter(working_copy_of=None)


@admin.register(Digest)
class DigestAdmin(
    DigestAnnounceMixin,
    LargeTableAdminMixin,
    DigestExportMixin,
    DigestEditorMixin,
    DigestWorkflowMixin,
    admin.ModelAdmin,
):
    list_display = ["title", "issue_date", "status_label", "go_live", "entry_count"]
    changelist_defer = ("summary",)
    list_filter = [WorkflowStateFilter, "issue_date"]
    search_fields = ["title", "slug", "summary"]
    prepopulated_fields = {"slug": ["title"]}
    date_hierarchy = "issue_date"
    inlines = [EntryInline]
    readonly_fields = ["status", "views_now", "public_link"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "issue_date", "summary", "tags"]}),
        (
            _("Publication"),
            {"fields": ["status", "published_at", "expires_at", "views_now", "public_link"]},
        ),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .with_entry_count("_entry_count")
            .annotate(_has_changes=Exists(Digest.objects.filter(working_copy_of=OuterRef("pk"))))
        )

    def get_changelist(self, request, **kwargs):
        return DigestChangeList

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not self.has_publish_permission(request):
            readonly += ["published_at", "expires_at"]
        return readonly

    @admin.display(description=_("number of papers"), ordering="_entry_count")
    def entry_count(self, obj):
        return obj._entry_count

    @admin.display(description=_("status"), ordering="status")
    def status_label(self, obj):
        label = _("Scheduled") if obj.is_scheduled else obj.get_status_display()
        if getattr(obj, "_has_changes", False):
            return _("%(state)s: live, with unpublished changes") % {"state": label}
        return label

    @admin.display(description=_("views"))
    def views_now(self, obj):
        """人气 as readers see it now (the row plus the counts the worker has not written)."""
        return counting.shown(obj, "digest") if obj.pk else 0

    @admin.display(description=_("address"))
    def public_link(self, obj):
        if not obj.pk:
            return "-"
        if obj.is_working_copy:
            url = reverse("admin:papers_digest_preview", args=[obj.pk])
            return format_html('<a href="{}">{}</a>', url, _("Preview the changes (staff only)"))
        label = _("View on site") if obj.is_published else _("Preview (staff only)")
        return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), label)


class FigureInlineForm(forms.ModelForm):
    source_url = forms.URLField(
        label=_("source"), required=False, assume_scheme="https", max_length=200
    )

    class Meta:
        model = Figure
        fields = ["position", "image", "caption", "alt_text", "source_url", "licence"]

    def clean_image(self):
        image = self.cleaned_data.get("image")
        if image and getattr(image, "size", 0) > settings.FIGURE_MAX_BYTES:
            limit = settings.FIGURE_MAX_BYTES // (1024 * 1024)
            raise ValidationError(_("The image is larger than %(mb)s MB.") % {"mb": limit})
        # A new upload carries the image Pillow opened (its header only): a small file can
        # still hold a huge picture (a 140 KB PNG of 144 megapixels) for readers to decode.
        opened = getattr(image, "image", None)
        if opened is not None and opened.width * opened.height > settings.FIGURE_MAX_PIXELS:
            raise ValidationError(
                _(
                    "The image is %(width)d × %(height)d pixels; at most %(max)s megapixels "
                    "are accepted. Scale it down and upload it again."
                )
                % {
                    "width": opened.width,
                    "height": opened.height,
                    "max": f"{settings.FIGURE_MAX_PIXELS / 1_000_000:g}",
                }
            )
        return image


class FigureInline(admin.TabularInline):
    model = Figure
    form = FigureInlineForm
    extra = 0
    fields = ["position", "image", "preview", "caption", "alt_text", "source_url", "licence"]
    readonly_fields = ["preview"]

    class Media:
        css = {"all": ["css/admin-figures.css"]}  # the preview's size (no inline styles: CSP)

    @admin.display(description=_("preview"))
    def preview(self, obj):
        if obj.image:
            return format_html('<img src="{}" alt="" class="figure-preview">', obj.image.url)
        if obj.placeholder:
            return format_html("<em>{}</em>: {}", _("image to upload"), obj.placeholder)
        return "-"


class EntryAdminForm(StaleEditFormMixin, forms.ModelForm):
    """The entry form with one text box per section kind, in the kinds' order."""

    class Meta:
        model = Entry
        fields = ["digest", "position", "paper", "title_zh", "tags", "unplaced_text"]
        widgets = {"unplaced_text": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.section_kinds = list(SectionKind.objects.all())
        existing = {}
        if self.instance.pk:
            existing = {s.kind_id: s.body for s in self.instance.sections.all()}
        for kind in self.section_kinds:
            hint = (
                _("A bullet list: one line per bullet.")
                if kind.is_list
                else _("Prose: a blank line between paragraphs; “- ” starts a bullet.")
            )
            self.fields[self.field_name(kind)] = forms.CharField(
                label=f"{kind.name_zh} ({kind.name_en})",
                required=False,
                initial=existing.get(kind.pk, ""),
                help_text=hint,
                widget=forms.Textarea(attrs={"rows": 6 if kind.is_list else 3, "lang": "zh"}),
            )

    def version_digest(self):
        return self.instance.digest if self.instance.pk else None

    @staticmethod
    def field_name(kind) -> str:
        return f"section_{kind.slug}"

    def save_sections(self, entry):
        current = {s.kind_id: s for s in entry.sections.all()}
        for kind in self.section_kinds:
            text = (self.cleaned_data.get(self.field_name(kind)) or "").strip()
            section = current.get(kind.pk)
            if not text:
                if section:
                    section.delete()
                continue
            if section is None:
                section = Section(entry=entry, kind=kind)
            if section.body != text or section.pk is None:
                section.body = text
                section.kind = kind
                section.save()


@admin.register(Entry)
class EntryAdmin(DigestAnnounceMixin, LargeTableAdminMixin, EntryWorkflowMixin, admin.ModelAdmin):
    form = EntryAdminForm
    list_display = ["__str__", "digest", "position", "title_zh"]
    list_select_related = ["digest", "paper"]
    changelist_defer = (
        "unplaced_text",
        "digest__summary",
        *(f"paper__{name}" for name in PaperAdmin.changelist_defer),
    )
    list_filter = ["digest__status"]
    search_fields = ["paper__title", "paper__arxiv_id", "title_zh", "digest__title"]
    autocomplete_fields = ["digest", "paper"]
    inlines = [FigureInline]

    def get_search_results(self, request, queryset, search_term):
        """Each word must match the paper's title or arXiv id, the Chinese title or the
        digest's title (as Django's own search), found as a union of index lookups
        (trigram indexes on PostgreSQL). Django's OR across the joined tables had to scan
        and join every entry."""
        words = [
            # A quoted phrase is one word, as in Django's search; an unclosed quote is text.
            unescape_string_literal(w) if w[0] in "\"'" and w[0] == w[-1] else w
            for w in smart_split(search_term)
        ]
        for word in filter(None, (w.strip() for w in words)):
            papers = Paper.objects.filter(Q(title__icontains=word) | Q(arxiv_id__icontains=word))
            digests = Digest.objects.filter(title__icontains=word)
            matching = (
                Entry.objects.filter(paper__in=papers.values("pk"))
                .order_by()
                .values("pk")
                .union(
                    Entry.objects.filter(digest__in=digests.values("pk")).order_by().values("pk"),
                    Entry.objects.filter(title_zh__icontains=word).order_by().values("pk"),
                )
            )
            queryset = queryset.filter(pk__in=matching)
        return queryset, False

    def get_fieldsets(self, request, obj=None):
        section_fields = [EntryAdminForm.field_name(kind) for kind in SectionKind.objects.all()]
        return [
            (None, {"fields": ["digest", "position", "paper", "title_zh", "tags"]}),
            (_("Critique sections"), {"fields": section_fields}),
            (_("Unplaced text"), {"fields": ["unplaced_text"], "classes": ["collapse"]}),
        ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        # The section boxes are added by the form itself; only model fields go to the factory.
        kwargs["fields"] = EntryAdminForm.Meta.fields
        return super().get_form(request, obj, change, **kwargs)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        form.save_sections(form.instance)


@admin.register(SectionKind)
class SectionKindAdmin(AnnounceChangesMixin, admin.ModelAdmin):
    renames_shared_names = True

    list_display = ["name_zh", "name_en", "slug", "order", "is_list", "aliases"]
    list_editable = ["order", "is_list"]
    search_fields = ["name_zh", "name_en", "slug", "aliases"]
    prepopulated_fields = {"slug": ["name_en"]}


@admin.register(SiteSettings)
class SiteSettingsAdmin(AnnounceChangesMixin, admin.ModelAdmin):
    """A single row: the list page goes straight to it. Its texts are on every page."""

    renames_shared_names = True

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not SiteSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        settings_row = SiteSettings.load()
        return HttpResponseRedirect(
            reverse("admin:papers_sitesettings_change", args=[settings_row.pk])
        )

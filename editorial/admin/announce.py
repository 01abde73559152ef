"""Admin saves and deletions announce a change readers can see (papers/changes.py)."""

from django.contrib import admin
from taggit.admin import TagAdmin
from taggit.models import Tag

from papers.changes import content_changed
from papers.models import Digest


class AnnounceChangesMixin:
    """For a ModelAdmin of content readers see. ``renames_shared_names``: the model's names
    appear in many papers' blocks and rows (a category, a section kind, a tag)."""

    renames_shared_names = False

    def is_public(self, obj) -> bool:
        """Whether readers can see ``obj`` (a draft digest's changes are nobody's concern)."""
        return True

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if self.is_public(form.instance):
            content_changed(names=self.renames_shared_names and change)

    def delete_model(self, request, obj):
        public = self.is_public(obj)
        super().delete_model(request, obj)
        if public:
            content_changed(names=self.renames_shared_names)

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        content_changed(names=self.renames_shared_names)


class DigestAnnounceMixin(AnnounceChangesMixin):
    def is_public(self, obj) -> bool:
        digest = obj if isinstance(obj, Digest) else obj.digest
        return digest.status in Digest.READABLE_STATES


admin.site.unregister(Tag)


@admin.register(Tag)
class AnnouncingTagAdmin(AnnounceChangesMixin, TagAdmin):
    renames_shared_names = True

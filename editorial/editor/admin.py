"""Mixed into DigestAdmin: the editor's two addresses, behind the admin's login."""

from functools import partial

from django.urls import path

from editorial.editor import views


class DigestEditorMixin:
    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/editor/",
                wrap(partial(views.editor_view, model_admin=self)),
                name="papers_digest_editor",
            ),
            path(
                "<int:pk>/editor/preview/",
                wrap(views.preview_view),
                name="papers_digest_editor_preview",
            ),
            *super().get_urls(),
        ]

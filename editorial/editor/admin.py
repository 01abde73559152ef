"""Mixed into DigestAdmin: the editor's addresses, behind the admin's login."""

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
            path(
                "<int:pk>/editor/add/",
                wrap(partial(views.add_view, model_admin=self)),
                name="papers_digest_editor_add",
            ),
            path(
                "<int:pk>/editor/add/<uuid:result_id>/",
                wrap(partial(views.lookup_view, model_admin=self)),
                name="papers_digest_editor_lookup",
            ),
            path(
                "<int:pk>/editor/remove/<int:entry_id>/",
                wrap(partial(views.remove_view, model_admin=self)),
                name="papers_digest_editor_remove",
            ),
            path(
                "<int:pk>/editor/comments/<int:comment>/",
                wrap(partial(views.comment_view, model_admin=self)),
                name="papers_digest_editor_comment",
            ),
            *super().get_urls(),
        ]

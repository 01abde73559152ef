from django.urls import path, register_converter

from . import views
from .converters import ArxivIdConverter, IsoDateConverter
from .views import comments as comment_views

register_converter(IsoDateConverter, "isodate")
register_converter(ArxivIdConverter, "arxiv")

app_name = "papers"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path(
        "digests/<isodate:date>/<slug:slug>/",
        views.DigestDetailView.as_view(),
        name="digest-detail",
    ),
    path(
        "digests/<isodate:date>/<slug:slug>/<arxiv:arxiv_id>/",
        views.EntryDetailView.as_view(),
        name="entry-detail",
    ),
    path("preview/<str:token>/", views.SharePreviewView.as_view(), name="share-preview"),
]

# Reader comments (papers/views/comments.py).
urlpatterns += [
    path("comments/", comment_views.post_comment, name="comment-post"),
    path("comments/<int:pk>/flag/", comment_views.flag_comment, name="comment-flag"),
    path("comments/<int:pk>/reply/", comment_views.reply_form, name="comment-reply"),
]

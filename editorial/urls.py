from django.urls import path

from editorial import views

app_name = "editorial"

urlpatterns = [
    path("preview/<str:token>/", views.share_preview, name="share-preview"),
    path("preview/<str:token>/comments/", views.share_comment, name="share-comment"),
]

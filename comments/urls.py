from django.urls import path

from comments import views

app_name = "comments"

urlpatterns = [
    path("comments/", views.post_comment, name="comment-post"),
    path("comments/<int:pk>/flag/", views.flag_comment, name="comment-flag"),
    path("comments/<int:pk>/reply/", views.reply_form, name="comment-reply"),
    path("comments/link/<str:token>/", views.comment_link, name="comment-link"),
    path("comments/notices/stop/<str:token>/", views.notices_stop, name="notices-stop"),
]

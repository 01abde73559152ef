from django.urls import path

from subscriptions import views

app_name = "subscriptions"

# The sign-up page is public (and cached); everything under /subscription/ is one reader's
# own, reached through a signed link, and never cached (PAGE_CACHE_EXCLUDE).
urlpatterns = [
    path("subscribe/", views.subscribe, name="subscribe"),
    path("subscription/sent/", views.sent, name="sent"),
    path("subscription/confirm/<str:token>/", views.confirm, name="confirm"),
    path("subscription/<str:token>/", views.manage, name="manage"),
    path("subscription/<str:token>/unsubscribe/", views.unsubscribe, name="unsubscribe"),
]

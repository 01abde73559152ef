"""Error views that say what went wrong in the reader's words and leak nothing."""

from django.shortcuts import render


def csrf_failure(request, reason=""):
    """A forged, missing or stale CSRF token. The reason is logged by Django, not shown."""
    return render(request, "403_csrf.html", status=403)

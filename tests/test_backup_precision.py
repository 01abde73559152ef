"""export_site / import_site keep every time to the microsecond (issue 22, item 9): a restored
site has the same times, and so the same feeds (``<updated>``), ETags and Last-Modified."""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import models
from django.test import Client
from django.utils import timezone

from editorial import backup
from papers.models import Digest, Entry
from tests import factories
from tests.test_production_backup import _empty_the_database

pytestmark = pytest.mark.django_db

FEEDS = ["/feeds/atom/", "/feeds/rss/", "/categories/cs.LG/feed/atom/"]


def _times() -> dict[str, list]:
    """Every date-time (and time) of every row in the archive, by model, field and pk."""
    found = {}
    for model in backup.backup_models():
        names = [
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, models.DateTimeField | models.TimeField)
        ]
        if names:
            rows = model._base_manager.order_by("pk").values_list("pk", *names)
            found[model._meta.label_lower] = {"fields": names, "rows": list(rows)}
    return found


def _feeds() -> dict[str, tuple]:
    client = Client()
    documents = {}
    for url in FEEDS:
        response = client.get(url)
        assert response.status_code == 200, url
        # The page cache, when it stores a feed, answers without Last-Modified: hence get().
        documents[url] = (response.content, response["ETag"], response.get("Last-Modified"))
    return documents


def test_a_restored_site_keeps_every_time_to_the_microsecond(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Times off any millisecond (timezone.now() is off one almost always; these surely are).
    live = timezone.now().replace(microsecond=123457) - datetime.timedelta(hours=2)
    digest = factories.digest(entries=2, published_at=live)
    factories.digest(entries=1, published_at=live - datetime.timedelta(days=1, microseconds=9))
    Digest.objects.filter(pk=digest.pk).update(updated_at=live + datetime.timedelta(seconds=1))
    Entry.objects.filter(digest=digest, position=1).update(
        updated_at=live + datetime.timedelta(minutes=5, microseconds=1)
    )
    factories.comment(on=digest.entries.first())
    factories.user("editor", staff=True)
    before, feeds = _times(), _feeds()
    sub_milli = [
        value
        for model in before.values()
        for row in model["rows"]
        for value in row[1:]
        if value is not None and value.microsecond % 1000
    ]
    assert len(sub_milli) >= 10  # digests, entries, papers, comments, users, ...

    archive = tmp_path / "site.zip"
    call_command("export_site", str(archive), stdout=StringIO())
    _empty_the_database(settings, tmp_path)
    assert not Digest.objects.exists()
    call_command("import_site", str(archive), stdout=StringIO())

    after = _times()
    assert after.keys() == before.keys()
    for label, model in before.items():
        assert after[label] == model, label
    # What readers' feed readers compare: the documents (their <updated>), ETag, Last-Modified.
    assert _feeds() == feeds

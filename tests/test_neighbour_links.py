"""The previous and next issue links are hand-written SQL (``papers.models.neighbour_links``)
that repeats the visibility rule: here they must agree, for every digest of an archive
holding every state and ties on one date, with the rule itself (``Digest.objects.published()``)
and the reading order (issue date, then id), as Python computes them."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from papers.models import Digest, neighbour_links
from reading.views.pages import _neighbour, visible_entries
from tests import factories

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def archive() -> list[Digest]:
    """Digests in every state, several sharing a date, out of id order."""
    now = timezone.now()
    start = datetime.date(2025, 9, 1)
    shapes = [
        (0, "published", {}),
        (1, "draft", {}),
        (1, "published", {}),
        (1, "review", {}),
        (1, "published", {}),  # two readable digests on one date: ordered by id
        (2, "published", {"published_at": now + DAY}),  # scheduled: not yet live
        (3, "published", {"published_at": now - 2 * DAY, "expires_at": now - DAY}),  # expired
        (3, "archived", {}),  # archived: readable, not listed
        (4, "published", {"expires_at": now + DAY}),  # expires later: readable now
        (5, "draft", {}),
        (6, "published", {"published_at": now - DAY}),
        (0, "archived", {"published_at": now - 2 * DAY, "expires_at": now - DAY}),
    ]
    return [
        factories.digest(issue_date=start + day * DAY, status=status, **fields)
        for day, status, fields in shapes
    ]


def expected(digest: Digest, readable: list[Digest]):
    """(previous, next) readable digest around ``digest`` by (issue date, id)."""
    key = (digest.issue_date, digest.pk)
    earlier = [d for d in readable if (d.issue_date, d.pk) < key]
    later = [d for d in readable if (d.issue_date, d.pk) > key]
    return (earlier[-1] if earlier else None, later[0] if later else None)


def described(link):
    found = _neighbour(link)
    return found and (found.issue_date, found.slug, found.title)


def as_link(digest):
    return digest and (digest.issue_date, digest.slug, digest.title)


def test_neighbour_links_follow_the_visibility_rule_and_reading_order_for_every_state():
    digests = archive()
    statuses = {d.status for d in digests}
    assert {"draft", "review", "published", "archived"} <= statuses
    readable = sorted(Digest.objects.published(), key=lambda d: (d.issue_date, d.pk))
    assert 3 < len(readable) < len(digests)
    links = neighbour_links(Digest, "id")
    found = {d.pk: d for d in Digest.objects.annotate(**links)}
    for digest in digests:  # a draft's preview shows its would-be neighbours too
        previous, following = expected(digest, readable)
        row = found[digest.pk]
        assert described(row.previous_link) == as_link(previous), digest
        assert described(row.next_link) == as_link(following), digest


def test_a_digest_page_links_the_readable_neighbours_through_its_entries():
    digests = archive()
    middle = digests[2]  # published, sharing its date with a draft, a review and another
    factories.entry(digest=middle)
    readable = sorted(Digest.objects.published(), key=lambda d: (d.issue_date, d.pk))
    previous, following = expected(middle, readable)
    where = {"issue_date": middle.issue_date, "slug": middle.slug}
    [entry] = visible_entries(AnonymousUser(), **where)
    assert described(entry.previous_link) == as_link(previous) == as_link(digests[0])
    assert described(entry.next_link) == as_link(following) == as_link(digests[4])


def test_without_readable_neighbours_there_are_no_links(client):
    only = factories.digest(entries=1)
    factories.digest(issue_date=only.issue_date + DAY, status="draft")
    html = client.get(only.get_absolute_url()).content.decode()
    assert 'rel="prev"' not in html and 'rel="next"' not in html

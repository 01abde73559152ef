"""The worker's side: batches of counters from the cache into daily rows and 人气.

``write_counts`` reads every closed batch since the last one written (three ``get_many``: the
batches' slot counts, their slots, their counters), then in one transaction adds them to the
daily rows and to ``view_count`` of the digests and entries, and records the last batch
written (``WrittenBatch``, locked: two workers write one after the other, and a batch is never
added twice). ``prune`` drops daily rows older than ``READERSHIP_RETENTION_DAYS``. Both keep
the roll-ups (readership/rollups.py) equal to the daily rows, in the same transaction.
"""

from __future__ import annotations

import datetime
import time
from collections import defaultdict

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from papers.models import Digest, Entry
from readership import counting as c
from readership import rollups
from readership.models import DigestDay, EntryDay, ReferrerDay, SearchDay, WrittenBatch

PAGE_MODELS = {"digest": (Digest, DigestDay, "digest"), "entry": (Entry, EntryDay, "entry")}


def _gather(batches: range) -> tuple[dict, dict]:
    """What the batches counted: {(ident, day): n} and {(terms, day): last result count}."""
    cache = c.store()
    slot_counts = cache.get_many([c.slots_key(b) for b in batches])
    slot_keys = {
        c.slot_key(b, s): b
        for b in batches
        for s in range(1, int(slot_counts.get(c.slots_key(b)) or 0) + 1)
    }
    idents = {}
    for key, ident in cache.get_many(list(slot_keys)).items():
        batch = slot_keys[key]
        idents[c.counter_key(batch, tuple(ident))] = (batch, tuple(ident))
    result_keys = {
        c.results_key(b, ident[1]): (b, ident[1]) for b, ident in idents.values() if ident[0] == "q"
    }
    values = cache.get_many([*idents, *result_keys])
    counts: dict[tuple, int] = defaultdict(int)
    results: dict[tuple, tuple[int, int]] = {}
    for key, (batch, ident) in idents.items():
        n = int(values.get(key) or 0)
        if n > 0:
            counts[(ident, c.day_of(batch))] += n
    for key, (batch, terms) in result_keys.items():
        found = values.get(key)
        day = c.day_of(batch)
        if found is not None and batch >= results.get((terms, day), (-1, 0))[0]:
            results[(terms, day)] = (batch, int(found))
    return counts, {k: v[1] for k, v in results.items()}


def _write_pages(kind: str, counts: dict) -> set[tuple]:
    model, day_model, field = PAGE_MODELS[kind]
    figures: dict[tuple[int, datetime.date], list[int]] = defaultdict(lambda: [0, 0])
    for (ident, day), n in counts.items():
        if ident[0] in ("v", "r") and ident[1] == kind:
            figures[(ident[2], day)][0 if ident[0] == "v" else 1] += n
    if not figures:
        return set()
    alive = set(model.objects.filter(pk__in={pk for pk, _ in figures}).values_list("pk", flat=True))
    figures = {key: value for key, value in figures.items() if key[0] in alive}
    rows = day_model.objects.filter(
        **{f"{field}_id__in": {pk for pk, _ in figures}, "day__in": {day for _, day in figures}}
    )
    existing = {(getattr(row, f"{field}_id"), row.day): row for row in rows}
    changed, new = [], []
    for (pk, day), (views, readers) in figures.items():
        row = existing.get((pk, day))
        if row is None:
            new.append(day_model(**{f"{field}_id": pk}, day=day, views=views, readers=readers))
        else:
            row.views += views
            row.readers += readers
            changed.append(row)
    day_model.objects.bulk_update(changed, ["views", "readers"], batch_size=500)
    day_model.objects.bulk_create(new, batch_size=500)
    # 人气: one UPDATE per distinct increment (most pages gain 1 or 2 a minute).
    by_increment: dict[int, list[int]] = defaultdict(list)
    totals: dict[int, int] = defaultdict(int)
    for (pk, _), (_, readers) in figures.items():
        totals[pk] += readers
    for pk, readers in totals.items():
        if readers:
            by_increment[readers].append(pk)
    for readers, pks in by_increment.items():
        model.objects.filter(pk__in=pks).update(view_count=F("view_count") + readers)
    return set(figures)


def _write_referrers(counts: dict) -> set[tuple]:
    figures = {(day, ident[1]): n for (ident, day), n in counts.items() if ident[0] == "ref"}
    if not figures:
        return set()
    rows = ReferrerDay.objects.filter(
        day__in={d for d, _ in figures}, domain__in={m for _, m in figures}
    )
    existing = {(row.day, row.domain): row for row in rows}
    changed, new = [], []
    for (day, domain), n in figures.items():
        row = existing.get((day, domain))
        if row is None:
            new.append(ReferrerDay(day=day, domain=domain, readers=n))
        else:
            row.readers += n
            changed.append(row)
    ReferrerDay.objects.bulk_update(changed, ["readers"], batch_size=500)
    ReferrerDay.objects.bulk_create(new, batch_size=500)
    return {(domain, day) for day, domain in figures}


def _write_searches(counts: dict, results: dict) -> set[tuple]:
    figures = {(day, ident[1]): n for (ident, day), n in counts.items() if ident[0] == "q"}
    if not figures:
        return set()
    rows = SearchDay.objects.filter(
        day__in={d for d, _ in figures}, terms__in={t for _, t in figures}
    )
    existing = {(row.day, row.terms): row for row in rows}
    changed, new = [], []
    for (day, terms), n in figures.items():
        found = results.get((terms, day), 0)
        row = existing.get((day, terms))
        if row is None:
            new.append(SearchDay(day=day, terms=terms, searches=n, results=found))
        else:
            row.searches += n
            row.results = found
            changed.append(row)
    SearchDay.objects.bulk_update(changed, ["searches", "results"], batch_size=500)
    SearchDay.objects.bulk_create(new, batch_size=500)
    return {(terms, day) for day, terms in figures}


def write_counts(*, moment: float | None = None) -> int:
    """Write every closed batch not yet written; returns how many counted views it wrote."""
    moment = time.time() if moment is None else moment
    closed = c.batch_of(moment - c.GRACE_SECONDS) - 1
    with transaction.atomic():
        mark, _ = WrittenBatch.objects.select_for_update().get_or_create(
            pk=1, defaults={"batch": closed - c.KEEP_BATCHES}
        )
        first = max(mark.batch + 1, closed - c.KEEP_BATCHES + 1)
        if first > closed:
            return 0
        counts, results = _gather(range(first, closed + 1))
        written = {kind: _write_pages(kind, counts) for kind in PAGE_MODELS}
        written["referrer"] = _write_referrers(counts)
        written["search"] = _write_searches(counts, results)
        rollups.refresh(written)
        mark.batch = closed
        mark.save(update_fields=["batch"])
    # Pages add the batches after this one to the rows' counts (counting.pending).
    c.store().set(c.WRITTEN_KEY, closed, None)
    return sum(n for (ident, _), n in counts.items() if ident[0] == "v")


def prune(*, today: datetime.date | None = None) -> int:
    """Delete the daily rows older than ``READERSHIP_RETENTION_DAYS``; returns how many."""
    today = today or timezone.localdate()
    cutoff = today - datetime.timedelta(days=int(c.conf("RETENTION_DAYS", 3 * 366)))
    deleted = 0
    with transaction.atomic():
        for model in (DigestDay, EntryDay, ReferrerDay, SearchDay):
            deleted += model.objects.filter(day__lt=cutoff).delete()[0]
        rollups.prune(cutoff)
    return deleted

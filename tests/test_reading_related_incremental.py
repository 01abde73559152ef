"""Related papers refreshed incrementally (reading/related.py, ``compute_changes``): after a
content change only the entries that changed are tokenised, and the lists they enter or
leave are rewritten; the result agrees with a full recomputation, and two refreshes racing
each other leave the lists and the document frequencies right."""

import datetime
import json
import logging

import pytest
from django.core.management import call_command
from django.utils import timezone

from editorial import services
from papers.models import Entry
from reading import related
from reading.models import RelatedCorpus, RelatedDocument, RelatedEntry
from tests import factories
from tests import related_samples as samples
from tests.test_reading_related import RAINBOW, _add_paper
from tests.workflow_support import role_user

pytestmark = pytest.mark.django_db

RL_TAG = "强化学习"


@pytest.fixture
def labelled():
    entries = samples.build()
    assert related.refresh().full
    return entries


@pytest.fixture
def editor():
    return role_user("editor")


def _every_list() -> dict[tuple[int, int | None], list[int]]:
    return dict(related.stored_lists())


def _frequencies() -> dict:
    return json.loads(RelatedCorpus.objects.get().frequencies)


def _publish_rainbow(editor) -> Entry:
    """Rainbow published in a digest of its own; the refresh is left to the caller."""
    issue = factories.digest(status="draft", issue_date=datetime.date(2025, 7, 1))
    rainbow = _add_paper(issue, RAINBOW)
    services.digest_publish(digest=issue, by=editor)
    return rainbow


def _holders(entry) -> set[tuple[int, int | None]]:
    return set(RelatedEntry.objects.filter(related=entry).values_list("entry_id", "kind_id"))


def test_a_new_paper_gets_its_list_from_its_own_entry_tokenised_alone(labelled, editor):
    rainbow = _publish_rainbow(editor)
    done = related.refresh()

    assert done.computed and not done.full
    assert (done.documents, done.tokenised) == (len(samples.PAPERS) + 1, 1)
    shown = [e.paper.arxiv_id for e in Entry.objects.filter(pk__in=_list(rainbow))]
    assert len(_list(rainbow)) == related.STORED
    assert sum(samples.topic_of(a) == samples.RL for a in shown[: related.SHOWN]) >= 4
    assert RelatedDocument.objects.count() == len(samples.PAPERS) + 1
    # DQN's list takes it in (Rainbow combines DQN's improvements) without DQN recomputed.
    assert rainbow.pk in _list(labelled["1312.5602"])


def _list(entry, kind=None) -> list[int]:
    return related.stored_lists([entry.pk]).get((entry.pk, kind), [])


def test_the_incremental_lists_are_those_of_a_full_recomputation(labelled, editor):
    """Rainbow's own lists (whole entry and sections) and the lists it enters are those a
    full recomputation makes; the others' orders may differ a little, as their stored
    scores keep the document frequencies of the run that made them (one paper more moves
    every weight of a 25-paper corpus: the drift ``FULL_AFTER`` bounds)."""
    rainbow = _publish_rainbow(editor)
    assert related.refresh().tokenised == 1
    incremental, entered = _every_list(), _holders(rainbow)
    frequencies = _frequencies()

    done = related.refresh(force=True, full=True)
    assert done.full and done.tokenised == len(samples.PAPERS) + 1
    full = _every_list()
    assert _holders(rainbow) == entered and len(entered) >= 10
    for kind in [None, *related.section_kinds()]:
        assert incremental[(rainbow.pk, kind)] == full[(rainbow.pk, kind)]
    assert incremental.keys() == full.keys()
    shown = sum(len(set(incremental[k][:5]) & set(full[k][:5])) for k in full)
    assert shown >= 0.97 * sum(len(full[k][:5]) for k in full)
    assert _frequencies() == frequencies  # the bookkeeping of document frequencies is exact


def test_an_unpublished_paper_leaves_every_list_and_the_frequencies(labelled, editor):
    before, frequencies = _every_list(), _frequencies()
    rainbow = _publish_rainbow(editor)
    related.refresh()
    assert _holders(rainbow)

    services.digest_unpublish(digest=rainbow.digest, by=editor)
    done = related.refresh()
    assert not done.full and done.tokenised == 0 and done.documents == len(samples.PAPERS)
    assert not RelatedEntry.objects.filter(related=rainbow).exists()
    assert not RelatedEntry.objects.filter(entry=rainbow).exists()
    assert not RelatedDocument.objects.filter(entry_id=rainbow.pk).exists()
    assert _every_list() == before  # the lists it entered are as before it came
    assert _frequencies() == frequencies


def test_a_deleted_digest_leaves_every_list(labelled, monkeypatch):
    monkeypatch.setattr(related, "FULL_AFTER", 0.5)  # 5 of 25 entries: not a full run
    frequencies = _frequencies()
    sac = labelled["1801.01290"]
    assert _holders(sac)
    gone = sac.digest.entries.count()
    services.digest_delete(digest=sac.digest, by=factories.user("boss", superuser=True))
    done = related.refresh()
    assert not done.full and done.tokenised == 0
    assert done.documents == RelatedDocument.objects.count() < len(samples.PAPERS)
    assert not RelatedEntry.objects.filter(related_id=sac.pk).exists()
    ppo = labelled["1707.06347"]
    assert len(_list(ppo)) >= related.SHOWN  # another paper took SAC's place
    left = _frequencies()
    assert left[""]["n"] == frequencies[""]["n"] - gone == len(samples.PAPERS) - gone
    related.refresh(force=True, full=True)
    assert _frequencies() == left


def test_a_changed_tag_moves_a_paper_between_topics(labelled):
    """ViT tagged as reinforcement learning (as the RL papers are) enters their lists and
    one of them enters its list, as a full recomputation has it; the tag removed, it
    leaves them again."""
    rl = {e.pk for a, e in labelled.items() if samples.topic_of(a) == samples.RL}
    for entry in Entry.objects.filter(pk__in=rl):
        entry.tags.add(RL_TAG)
    related.refresh(full=True)
    vit = labelled["2010.11929"]

    def seen():
        """RL papers in ViT's shown list; RL papers' lists holding ViT."""
        mine = sum(pk in rl for pk in _list(vit)[: related.SHOWN])
        return mine, sum(vit.pk in _list(Entry(pk=pk)) for pk in rl)

    assert seen() == (0, 0)
    vit.tags.add(RL_TAG)
    done = related.refresh()
    assert (done.full, done.tokenised) == (False, 1)
    assert seen() == (1, 3)
    related.refresh(force=True, full=True)
    assert seen() == (1, 3)

    vit.tags.remove(RL_TAG)
    assert related.refresh().tokenised == 1
    assert seen() == (0, 0)


def test_an_edited_entry_is_tokenised_again_and_its_former_terms_leave(labelled):
    ppo = labelled["1707.06347"]
    frequencies = _frequencies()
    ppo.title_zh = "近端策略优化：裁剪替代目标"
    ppo.save()
    done = related.refresh()
    assert (done.full, done.tokenised) == (False, 1)
    after = _frequencies()
    assert after[""]["n"] == frequencies[""]["n"]
    assert after[""]["df"].get("裁剪", 0) == frequencies[""]["df"].get("裁剪", 0)  # same entry
    assert after[""]["df"]["替代"] == frequencies[""]["df"]["替代"]  # counted once per entry


def _edit(entries, mark):
    for entry in entries:
        entry.title_zh += mark
        entry.save()


def test_a_drifted_corpus_is_recomputed_in_full_within_the_task_s_size(
    labelled, monkeypatch, caplog
):
    """Past ``FULL_AFTER`` (10%) of the corpus changed since the last full computation, the
    next refresh is full; in a corpus larger than ``FULL_IN_TASK_MAX`` it stays incremental
    and says that ``rebuild_related`` is due."""
    entries = list(labelled.values())
    _edit(entries[:1], "。")
    assert related.refresh().full is False  # 1 of 25 changed
    _edit(entries[1:3], "。")
    done = related.refresh()  # 3 of 25: more than 10%
    assert done.full and done.tokenised == len(entries)
    assert RelatedCorpus.objects.get().changed_since_full == 0

    monkeypatch.setattr(related, "FULL_IN_TASK_MAX", 20)
    _edit(entries[:3], "！")
    with caplog.at_level(logging.WARNING, logger="reading.related"):
        done = related.refresh()
    assert (done.full, done.tokenised) == (False, 3)
    assert "run `manage.py rebuild_related`" in caplog.text
    assert related.refresh(force=True, full=True).full  # what rebuild_related does


def test_rebuild_related_is_full_unless_asked_for_the_changes_only(labelled, capsys):
    _edit([labelled["1707.06347"]], "。")
    call_command("rebuild_related", "--incremental")
    assert "(incremental, 1 tokenised)" in capsys.readouterr().out
    call_command("rebuild_related")
    assert f"(full, {len(samples.PAPERS)} tokenised)" in capsys.readouterr().out


# --- two refreshes at once ------------------------------------------------------------------


def test_a_refresh_older_than_the_stored_one_does_not_overwrite_it(labelled, editor, monkeypatch):
    """Another worker started later and wrote first: this one's lists are dropped."""
    rainbow = _publish_rainbow(editor)
    original = related.compute_changes
    newer = []

    def meanwhile(*args, **kwargs):
        computed = original(*args, **kwargs)
        if not newer:
            monkeypatch.setattr(related, "compute_changes", original)
            newer.append(related.refresh())  # starts after this one, writes first
        computed.lists = {key: [] for key in computed.lists}  # what must not be written
        return computed

    monkeypatch.setattr(related, "compute_changes", meanwhile)
    done = related.refresh()
    assert newer[0].lists_changed and done.lists_changed == 0
    assert len(_list(rainbow)) == related.STORED
    assert RelatedCorpus.objects.get().generation == 2  # the full run's, the newer one's


def test_a_refresh_whose_base_was_rewritten_meanwhile_computes_again(labelled, editor, monkeypatch):
    """An older refresh wrote while this one computed from the documents and frequencies
    before it: applying this one's changes to that base would count Rainbow's terms twice,
    so it computes again from the new base."""
    _publish_rainbow(editor)
    original = related.compute_changes
    calls = []

    def meanwhile(*args, **kwargs):
        calls.append(1)
        computed = original(*args, **kwargs)
        if len(calls) == 1:
            monkeypatch.setattr(related, "compute_changes", original)
            related.refresh()  # it wrote Rainbow's document and frequencies
            older = timezone.now() - datetime.timedelta(minutes=1)
            RelatedCorpus.objects.update(started_at=older)  # it had started first
            monkeypatch.setattr(related, "compute_changes", meanwhile)
        return computed

    monkeypatch.setattr(related, "compute_changes", meanwhile)
    done = related.refresh(force=True)
    assert len(calls) == 2 and done.computed and not done.full
    assert done.tokenised == 0  # the second time, Rainbow was in the base already
    frequencies = _frequencies()
    assert frequencies[""]["n"] == len(samples.PAPERS) + 1
    related.refresh(force=True, full=True)
    assert _frequencies() == frequencies

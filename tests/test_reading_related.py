"""Related papers (reading/related.py): good enough on a labelled set (the related list of a
reinforcement-learning paper is mostly reinforcement-learning papers), there from the moment
a digest is published (the background task runs at once in the tests), never a draft,
gone with an unpublished, deleted or expired digest, "similar 不足" on the section pages, and
within the pages' query budgets."""

import datetime
import importlib
import re
from io import StringIO

import pytest
from django.apps import apps
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from editorial import services
from papers.changes import content_changed
from papers.models import Entry, Section, SectionKind, TaggedEntry
from reading import related
from reading.models import RelatedCorpus, RelatedEntry
from tests import factories
from tests import related_samples as samples
from tests.conftest import run_commit_hooks
from tests.workflow_support import role_user

pytestmark = pytest.mark.django_db

RAINBOW = {
    "arxiv_id": "1710.02298",
    "title": "Rainbow: Combining Improvements in Deep Reinforcement Learning",
    "abstract": "Combines six extensions of the DQN algorithm, among them prioritized replay, "
    "dueling networks and distributional Q-learning, into one deep reinforcement learning agent.",
    "title_zh": "彩虹：融合深度强化学习的多项改进",
    "innovation": "- 把优先经验回放、对决网络等六项改进合入一个DQN智能体\n- 逐项消融各改进的贡献",
    "limitations": "- 组合后的智能体需要更多超参数\n- 仍需数千万帧与环境的交互，样本效率低",
    "summary": "六项改进合而为一，深度Q学习在雅达利游戏上全面领先。",
}


def _shown(response) -> list[str]:
    """The arXiv ids of the entry page's related list, in order."""
    html = response.content.decode()
    block = re.search(r'<section class="related".*?</section>', html, flags=re.S)
    return re.findall(r'href="/digests/[^"]+/([^/"]+)/"', block.group(0)) if block else []


def _list_of(entry, kind=None) -> list[str]:
    rows = RelatedEntry.objects.filter(entry=entry).select_related("related__paper")
    rows = rows.filter(kind__isnull=True) if kind is None else rows.filter(kind__slug=kind)
    return [row.related.paper.arxiv_id for row in rows.order_by("rank")][: related.SHOWN]


def _add_paper(digest, facts, position=1) -> Entry:
    """An entry of ``digest`` with ``facts`` (an RL paper unless told) and its sections."""
    paper = factories.paper(
        arxiv_id=facts["arxiv_id"],
        title=facts["title"],
        abstract=facts["abstract"],
        primary_category=factories.category("cs.LG"),
    )
    entry = Entry.objects.create(
        digest=digest, paper=paper, position=position, title_zh=facts["title_zh"]
    )
    for kind in SectionKind.objects.filter(slug__in=("innovation", "limitations", "summary")):
        Section.objects.create(entry=entry, kind=kind, body=facts[kind.slug])
    return entry


@pytest.fixture
def labelled():
    entries = samples.build()
    related.refresh()
    return entries


@pytest.fixture
def editor():
    return role_user("editor")


# --- quality on the labelled set ------------------------------------------------------------


def test_the_related_list_of_a_reinforcement_learning_paper_is_mostly_rl_papers(labelled):
    for arxiv_id, entry in labelled.items():
        if samples.topic_of(arxiv_id) != samples.RL:
            continue
        shown = _list_of(entry)
        same = [other for other in shown if samples.topic_of(other) == samples.RL]
        assert len(shown) == related.SHOWN, arxiv_id
        assert len(same) >= 4, (arxiv_id, shown)


def test_every_topic_mostly_finds_its_own_papers(labelled):
    pairs = [
        (samples.topic_of(arxiv_id), samples.topic_of(other))
        for arxiv_id, entry in labelled.items()
        for other in _list_of(entry)
    ]
    assert len(pairs) >= 0.9 * related.SHOWN * len(labelled)
    precision = sum(mine == theirs for mine, theirs in pairs) / len(pairs)
    assert precision >= 0.75, precision


def test_similar_limitations_of_rl_papers_are_mostly_about_rl(labelled):
    rl_lists = [
        _list_of(entry, "limitations")
        for arxiv_id, entry in labelled.items()
        if samples.topic_of(arxiv_id) == samples.RL
    ]
    assert all(rl_lists)
    found = [other for shown in rl_lists for other in shown]
    assert sum(samples.topic_of(other) == samples.RL for other in found) / len(found) > 0.6


def test_the_entry_page_lists_five_related_papers_by_title_with_links(client, labelled):
    ppo = labelled["1707.06347"]
    response = client.get(ppo.get_absolute_url())
    shown = _shown(response)
    assert shown == _list_of(ppo)
    html = response.content.decode()
    assert "Soft Actor-Critic" in html or "Trust Region Policy Optimization" in html
    for arxiv_id in shown:
        assert client.get(labelled[arxiv_id].get_absolute_url()).status_code == 200


def test_on_the_benchmark_data_rl_papers_are_mostly_related_to_rl_papers():
    """The synthetic text of generate_bench_data is drawn at random, so only the editors'
    tags say what a paper is about: 强化学习 is on about one entry in three."""
    call_command("generate_bench_data", "--papers", "500", "--digests", "100", stdout=StringIO())
    related.refresh()
    rl = set(
        TaggedEntry.objects.filter(
            tag__name="强化学习", content_object__in=related.indexed_entries()
        ).values_list("content_object_id", flat=True)
    )
    pairs = RelatedEntry.objects.filter(
        kind__isnull=True, rank__lte=related.SHOWN, entry_id__in=rl
    ).values_list("related_id", flat=True)
    shown = list(pairs)
    assert len(shown) >= 0.8 * related.SHOWN * len(rl)
    assert sum(other in rl for other in shown) / len(shown) > 0.5


def test_section_pages_show_similar_sections_of_their_kind(client, labelled):
    html = client.get("/sections/limitations/").content.decode()
    assert html.count('class="related"') >= 20
    assert "Similar “不足”" in html or "相似的“不足”" in html
    assert 'class="related"' not in client.get("/sections/key-points/").content.decode()


# --- from the moment of publication ---------------------------------------------------------


def test_a_paper_published_a_moment_ago_already_has_related_papers(client, labelled, editor):
    issue = factories.digest(status="draft", issue_date=datetime.date(2025, 7, 1))
    rainbow = _add_paper(issue, RAINBOW)
    run_commit_hooks()
    assert not RelatedEntry.objects.filter(entry=rainbow).exists()

    services.digest_publish(digest=issue, by=editor)
    response = client.get(rainbow.get_absolute_url())  # the commit runs the task first

    shown = _shown(response)
    assert len(shown) == related.SHOWN
    assert sum(samples.topic_of(other) == samples.RL for other in shown) >= 4
    # And the archive's papers already point at it: DQN, whose six improvements it combines.
    assert RAINBOW["arxiv_id"] in _shown(client.get(labelled["1312.5602"].get_absolute_url()))


def test_drafts_and_digests_in_review_are_never_related(client, labelled, editor):
    draft = factories.digest(status="draft", issue_date=datetime.date(2025, 7, 1))
    rainbow = _add_paper(draft, RAINBOW)
    review = factories.digest(status="review", issue_date=datetime.date(2025, 7, 2))
    twin = dict(RAINBOW, arxiv_id="1710.02299", title="Rainbow, in review")
    _add_paper(review, twin)
    content_changed()
    run_commit_hooks()
    assert related.refresh(force=True).documents == len(samples.PAPERS)

    assert not RelatedEntry.objects.filter(related__digest__in=[draft, review]).exists()
    assert not RelatedEntry.objects.filter(entry__digest__in=[draft, review]).exists()
    dqn = client.get(labelled["1312.5602"].get_absolute_url()).content.decode()
    assert "Rainbow" not in dqn
    # The editor's preview of the draft shows no list either (nothing is computed for it).
    preview = Client()
    preview.force_login(editor)
    assert 'class="related"' not in preview.get(rainbow.get_absolute_url()).content.decode()


def test_an_unpublished_digest_leaves_every_related_list(client, labelled, editor):
    issue = factories.digest(status="draft", issue_date=datetime.date(2025, 7, 1))
    _add_paper(issue, RAINBOW)
    services.digest_publish(digest=issue, by=editor)
    dqn_url = labelled["1312.5602"].get_absolute_url()
    assert RAINBOW["arxiv_id"] in _shown(client.get(dqn_url))

    services.digest_unpublish(digest=issue, by=editor)
    assert RAINBOW["arxiv_id"] not in _shown(client.get(dqn_url))
    assert not RelatedEntry.objects.filter(related__digest=issue).exists()


def test_a_deleted_paper_leaves_every_related_list_at_once(client, labelled):
    sac = labelled["1801.01290"]
    ppo_url = labelled["1707.06347"].get_absolute_url()
    assert "1801.01290" in _shown(client.get(ppo_url))
    services.digest_delete(digest=sac.digest, by=factories.user("boss", superuser=True))
    assert not RelatedEntry.objects.filter(related_id=sac.pk).exists()
    shown = _shown(client.get(ppo_url))
    assert "1801.01290" not in shown and len(shown) == related.SHOWN


def test_an_expired_or_scheduled_digest_is_hidden_when_the_page_is_read(
    client, labelled, editor, time_machine
):
    """Visibility is decided at read time: no recomputation when a digest expires or a
    scheduled one goes live."""
    issue = factories.digest(status="draft", issue_date=datetime.date(2025, 7, 1))
    _add_paper(issue, RAINBOW)
    go_live = timezone.now() + datetime.timedelta(hours=2)
    services.digest_schedule(
        digest=issue, by=editor, at=go_live, expires_at=go_live + datetime.timedelta(days=1)
    )
    dqn_url = labelled["1312.5602"].get_absolute_url()
    assert RAINBOW["arxiv_id"] not in _shown(client.get(dqn_url))
    computed = RelatedCorpus.objects.get().finished_at

    time_machine.move_to(go_live + datetime.timedelta(minutes=1))
    cache.clear()
    assert RAINBOW["arxiv_id"] in _shown(client.get(dqn_url))
    time_machine.move_to(go_live + datetime.timedelta(days=2))
    cache.clear()
    shown = _shown(client.get(dqn_url))
    assert RAINBOW["arxiv_id"] not in shown and len(shown) == related.SHOWN
    assert RelatedCorpus.objects.get().finished_at == computed


@pytest.mark.parametrize(
    ("status", "shown"),
    [("published", True), ("archived", True), ("draft", False), ("review", False)],
)
def test_the_stored_lists_are_filtered_by_the_digests_state_when_read(
    client, labelled, status, shown
):
    """The page's SQL repeats ``published_q`` (reading/related.py): a digest's state counts
    at once, before any recomputation (a database restored, a worker behind)."""
    sac = labelled["1801.01290"]
    ppo_url = labelled["1707.06347"].get_absolute_url()
    assert "1801.01290" in _shown(client.get(ppo_url))
    type(sac.digest).objects.filter(pk=sac.digest_id).update(status=status)
    cache.clear()
    assert ("1801.01290" in _shown(client.get(ppo_url))) is shown
    assert RelatedEntry.objects.filter(related=sac).exists()


def test_a_paper_in_two_digests_is_not_related_to_itself(labelled):
    again = factories.digest(issue_date=datetime.date(2025, 8, 1))
    ppo = labelled["1707.06347"]
    Entry.objects.create(digest=again, paper=ppo.paper, position=1, title_zh=ppo.title_zh)
    related.refresh()
    for entry in Entry.objects.filter(paper=ppo.paper):
        assert "1707.06347" not in _list_of(entry)
    for entry in labelled.values():
        shown = _list_of(entry)
        assert len(shown) == len(set(shown))


# --- the background task ----------------------------------------------------------------------


def test_a_change_elsewhere_costs_one_fingerprint_and_no_recomputation(labelled):
    assert related.refresh().computed is False
    factories.comment(on=labelled["1707.06347"])
    assert related.refresh().computed is False
    entry = labelled["1707.06347"]
    entry.title_zh = "近端策略优化"
    entry.save()
    assert related.refresh().computed is True


def test_the_task_announces_its_lists_without_scheduling_itself_again(labelled, monkeypatch):
    runs = []
    original = related.refresh
    monkeypatch.setattr(related, "refresh", lambda **kw: runs.append(1) or original(**kw))
    entry = labelled["1707.06347"]
    entry.title_zh = "近端策略优化"
    entry.save()
    content_changed()
    run_commit_hooks()
    run_commit_hooks()  # what the task announced (derived): pages only
    assert len(runs) == 1


def test_rebuild_related_recomputes_every_list(labelled, capsys):
    RelatedEntry.objects.all().delete()
    call_command("rebuild_related")
    assert "25 entries" in capsys.readouterr().out
    assert all(_list_of(entry) for entry in labelled.values())


# --- query budgets -----------------------------------------------------------------------------


def _queries(url):
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = Client().get(url)
    assert response.status_code == 200
    return len(captured)


def test_related_lists_cost_no_query_of_their_own(labelled):
    """The entry page's budget (8 cold, tests/test_render_pages.py) and the section page's
    are the same with related lists as without."""
    ppo = labelled["1707.06347"]
    urls = [ppo.get_absolute_url(), "/sections/limitations/"]
    with_lists = [_queries(url) for url in urls]
    RelatedEntry.objects.all().delete()
    assert [_queries(url) for url in urls] == with_lists
    assert with_lists[0] == 8


# --- no state outside the database ----------------------------------------------------------


def _seed_reference_rows():
    """A transactional test starts from empty tables: the section kinds and categories the
    migration seeds are made again."""
    if not SectionKind.objects.exists():
        importlib.import_module("papers.migrations.0002_seed_reference_data").seed(apps, None)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("run", [1, 2])
def test_lists_are_computed_afresh_after_the_tables_are_flushed(run):
    _seed_reference_rows()
    entries = samples.build()
    content_changed()  # outside a transaction: the task runs at once
    assert RelatedCorpus.objects.get().documents == len(samples.PAPERS)
    shown = _list_of(entries["1707.06347"])
    assert len(shown) == related.SHOWN
    assert sum(samples.topic_of(other) == samples.RL for other in shown) >= 4

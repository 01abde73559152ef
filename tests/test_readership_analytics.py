"""The analytics page (issue 20): editors only, every chart with a table and a CSV equal to
it, searches that found nothing listed, charts as script-free SVG with Chinese labels."""

import csv
import datetime
import io
import re
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from comments.models import Comment
from editorial import analytics
from readership import rollups
from readership.models import DigestDay, EntryDay, ReferrerDay, SearchDay
from subscriptions.models import Subscriber
from tests import factories

pytestmark = pytest.mark.django_db


def fill(today: datetime.date | None = None):
    """Thirty days of readership for two digests of two papers each, with tags, referrers,
    searches (some finding nothing), comments and subscribers."""
    today = today or timezone.localdate()
    first = factories.digest(title="AI前沿推介(9.30)", entries=2)
    second = factories.digest(title="AI前沿推介(10.1)", entries=2)
    entries = list(first.entries.all()) + list(second.entries.all())
    entries[0].tags.add("强化学习")
    entries[1].tags.add("强化学习", "大模型")
    entries[2].tags.add("大模型")
    for age in range(30):
        day = today - datetime.timedelta(days=age)
        DigestDay.objects.create(digest=first, day=day, views=40 + age, readers=30 + age)
        DigestDay.objects.create(digest=second, day=day, views=20, readers=10)
        for n, entry in enumerate(entries):
            EntryDay.objects.create(entry=entry, day=day, views=5 + n, readers=3 + n)
        ReferrerDay.objects.create(day=day, domain="zhihu.com", readers=7)
        ReferrerDay.objects.create(day=day, domain="weibo.com", readers=2)
        SearchDay.objects.create(day=day, terms="强化学习", searches=9, results=12)
        SearchDay.objects.create(day=day, terms="量子引力", searches=3, results=0)
    SearchDay.objects.create(day=today, terms="多模态推理", searches=1, results=0)
    rollups.rebuild()  # what the worker keeps current as it writes the daily rows
    for n in range(4):
        factories.comment(on=first, status="pending", body=f"待审评论{n}")
    approved = factories.comment(on=first, status="approved", body="好文")
    Comment.objects.filter(pk=approved.pk).update(moderated_at=timezone.now())
    for n in range(3):
        Subscriber.objects.create(
            email=f"reader{n}@example.com",
            key=f"key{n}",
            status=Subscriber.Status.CONFIRMED,
            confirmed_at=timezone.now(),
        )
    return first, second


def editor_client():
    editor = factories.user("editor", staff=True)
    editor.groups.add(Group.objects.get(name="Editor"))
    client = Client()
    client.force_login(editor)
    return client


class Tables(HTMLParser):
    """Each report's table on the page, as rows of cell texts, by report name."""

    def __init__(self):
        super().__init__()
        self.tables, self.current, self.row, self.cell, self.section = {}, None, None, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section" and (attrs.get("id") or "").startswith("report-"):
            self.section = attrs["id"][len("report-") :]
        elif tag == "table" and self.section:
            self.current = self.tables.setdefault(self.section, [])
        elif tag == "tr" and self.current is not None:
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.row.append(self.cell.strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.current.append(self.row)
            self.row = None
        elif tag == "table":
            self.current = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def page_tables(html: str) -> dict:
    parser = Tables()
    parser.feed(html)
    return parser.tables


def test_the_page_shows_every_report_with_a_chart_a_table_and_a_csv_equal_to_it():
    fill()
    client = editor_client()
    page = client.get(reverse("admin-analytics"), {"days": 30, "grain": "week"})
    assert page.status_code == 200
    html = page.content.decode()
    tables = page_tables(html)
    for name in analytics.REPORTS:
        chart = reverse("admin-analytics-chart", args=[name])
        assert f'src="{chart}?days=30&amp;grain=week"' in html
        download = client.get(
            reverse("admin-analytics-csv", args=[name]), {"days": 30, "grain": "week"}
        )
        assert download.status_code == 200
        assert download["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
        report = analytics.REPORTS[name](analytics.Period(days=30, grain="week"))
        if report.rows:
            assert rows == tables[report.name], name
        else:
            assert rows == [[str(c) for c in report.columns]]


def test_the_figures_are_the_daily_rows_summed_over_the_period():
    first, _second = fill()
    client = editor_client()
    tables = page_tables(client.get(reverse("admin-analytics"), {"days": 7}).content.decode())
    # Top digest: the first, 30+31+...+36 readers in the last seven days.
    assert tables["digests"][1][0].startswith("AI前沿推介(9.30)")
    assert tables["digests"][1][1] == str(sum(30 + age for age in range(7)))
    # 大模型 is on the papers read 4 and 5 times a day, 强化学习 on those read 3 and 4.
    assert [row[0] for row in tables["tags"][1:]] == ["大模型", "强化学习"]
    assert [row[0] for row in tables["referrers"][1:]] == ["zhihu.com", "weibo.com"]
    assert len(tables["views"]) == 1 + 7  # a row a day
    assert tables["views"][-1][1:] == [str(40 + 20 + 5 + 6 + 7 + 8), str(30 + 10 + 3 + 4 + 5 + 6)]
    assert tables["comments"][-1][-1] == "4"  # the backlog now
    assert tables["subscribers"][-1][-1] == "3"


def test_searches_that_found_nothing_appear_in_their_own_report():
    fill()
    tables = page_tables(editor_client().get(reverse("admin-analytics")).content.decode())
    assert [row[:3] for row in tables["no-results"][1:]] == [
        ["量子引力", "90", "0"],
        ["多模态推理", "1", "0"],
    ]
    assert tables["searches"][1][:3] == ["强化学习", "270", "12"]


def test_charts_are_svg_without_script_and_keep_chinese_labels():
    fill()
    client = editor_client()
    chart = client.get(reverse("admin-analytics-chart", args=["top_tags"]), {"days": 30})
    assert chart.status_code == 200
    assert chart["Content-Type"].startswith("image/svg+xml")
    svg = chart.content.decode()
    assert svg.lstrip().startswith("<svg")
    assert "<script" not in svg.lower()
    assert "强化学习" in svg and "Noto Sans CJK SC" in svg
    line = client.get(reverse("admin-analytics-chart", args=["views_over_time"]), {"days": 365})
    assert line.status_code == 200 and "<script" not in line.content.decode().lower()


def test_a_search_typed_like_a_formula_is_text_in_the_csv():
    SearchDay.objects.create(day=timezone.localdate(), terms="=cmd|calc", searches=1, results=0)
    download = editor_client().get(reverse("admin-analytics-csv", args=["zero_result_searches"]))
    assert "'=cmd|calc" in download.content.decode("utf-8-sig")


@pytest.mark.parametrize("who", ["anonymous", "author", "moderator"])
def test_only_editors_see_the_analytics(who):
    fill()
    client = Client()
    if who == "author":
        author = factories.user("author", staff=True)
        author.groups.add(Group.objects.get(name="Author"))
        client.force_login(author)
    elif who == "moderator":
        client.force_login(factories.moderator())
    for url in (
        reverse("admin-analytics"),
        reverse("admin-analytics-chart", args=["top_papers"]),
        reverse("admin-analytics-csv", args=["top_papers"]),
    ):
        response = client.get(url)
        if who == "anonymous":
            assert response.status_code == 302 and "/admin/login/" in response["Location"]
        else:
            assert response.status_code == 403


def test_bad_periods_and_unknown_reports_are_handled_without_error():
    client = editor_client()
    page = client.get(reverse("admin-analytics"), {"days": "9999", "grain": "<x>"})
    assert page.status_code == 200
    assert re.search(r'aria-current="true">30', page.content.decode())
    assert client.get("/admin/analytics/nothing.csv").status_code == 404
    assert client.get("/admin/analytics/nothing.svg").status_code == 404


def test_the_admin_home_links_editors_to_the_analytics():
    html = editor_client().get(reverse("admin:index")).content.decode()
    assert reverse("admin-analytics") in html


def test_the_page_costs_a_fixed_number_of_queries(django_assert_max_num_queries):
    fill()
    client = editor_client()
    client.get(reverse("admin-analytics"))  # warm the session and permissions
    # A period never computed is computed once (its three grains, every report)...
    with django_assert_max_num_queries(60):
        client.get(reverse("admin-analytics"), {"days": 365, "grain": "month"})
    # ...and from then on read from its snapshots: the session, the user, the permissions
    # (two), one read of the stored reports.
    with django_assert_max_num_queries(5):
        client.get(reverse("admin-analytics"), {"days": 365, "grain": "day"})
    with django_assert_max_num_queries(5):
        client.get(reverse("admin-analytics-chart", args=["top_papers"]), {"days": 365})


# --- computed ahead by the worker ------------------------------------------------------------


def test_the_page_shows_the_stored_figures_until_the_worker_computes_them_again(settings):
    first, _second = fill()
    client = editor_client()
    week = {"days": 7}
    before = page_tables(client.get(reverse("admin-analytics"), week).content.decode())
    today = timezone.localdate()
    DigestDay.objects.filter(digest=first, day=today).update(readers=1000, views=1200)
    rollups.rebuild()
    page = client.get(reverse("admin-analytics"), week).content.decode()
    assert page_tables(page) == before  # the snapshot, not the daily rows
    assert "后台任务每 5 分钟重新计算一次" in page and "立即刷新" in page
    analytics.refresh()  # the worker's next run
    after = page_tables(client.get(reverse("admin-analytics"), week).content.decode())
    assert after["digests"][1][1] == str(sum(30 + age for age in range(1, 7)) + 1000)
    csv_rows = client.get(reverse("admin-analytics-csv", args=["top_digests"]), week)
    assert list(csv.reader(io.StringIO(csv_rows.content.decode("utf-8-sig")))) == after["digests"]


def test_figures_the_worker_stopped_refreshing_say_so():
    from editorial.models import AnalyticsSnapshot

    fill()
    client = editor_client()
    assert "后台任务是否在运行" not in client.get(reverse("admin-analytics")).content.decode()
    AnalyticsSnapshot.objects.update(computed_at=timezone.now() - datetime.timedelta(hours=1))
    page = client.get(reverse("admin-analytics")).content.decode()
    assert 'class="errornote" role="status"' in page and "后台任务是否在运行" in page


def test_refresh_now_computes_the_figures_again_for_editors_only():
    first, _second = fill()
    client = editor_client()
    client.get(reverse("admin-analytics"), {"days": 7})
    DigestDay.objects.filter(digest=first, day=timezone.localdate()).update(readers=1000)
    rollups.rebuild()
    for who in ("author", "moderator"):
        other = Client()
        user = factories.moderator() if who == "moderator" else factories.user("a", staff=True)
        if who == "author":
            user.groups.add(Group.objects.get(name="Author"))
        other.force_login(user)
        assert other.post(reverse("admin-analytics"), {"days": 7}).status_code == 403
    response = client.post(reverse("admin-analytics"), {"days": 7, "grain": "week"}, follow=True)
    assert response.redirect_chain[-1][0] == f"{reverse('admin-analytics')}?days=7&grain=week"
    page = response.content.decode()
    assert "正在重新计算" in page
    # The tests' task backend runs the refresh at once; the worker would within a minute.
    tables = page_tables(page)
    assert tables["digests"][1][1] == str(sum(30 + age for age in range(1, 7)) + 1000)


def test_a_refresh_asked_twice_before_the_worker_is_free_runs_once(settings):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    analytics.refresh_analytics_now()
    analytics.refresh_analytics_now()
    runs = DBTaskResult.objects.filter(task_path=analytics.refresh_analytics.module_path)
    assert runs.count() == 1


def test_the_worker_starts_one_chain_of_refreshes_that_goes_on(settings):
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from background.tasks import worker_ready

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.ANALYTICS_WORKER_REFRESHES = True
    worker_ready.send(sender=None)
    worker_ready.send(sender=None)
    runs = DBTaskResult.objects.filter(task_path=analytics.refresh_analytics.module_path)
    assert runs.count() == 1
    runs.update(status=TaskResultStatus.RUNNING)  # the worker takes it...
    analytics.refresh_analytics.call()  # ...and runs it: every period stored...
    stored = analytics.AnalyticsSnapshot.objects
    assert stored.count() == len(analytics.REPORTS) * 3 * 3
    # ...and the next run waits its turn, ANALYTICS_REFRESH_SECONDS later.
    waiting = runs.filter(run_after__gt=timezone.now() + datetime.timedelta(seconds=200))
    assert runs.count() == 2 and waiting.count() == 1


def test_each_language_of_the_back_office_gets_its_own_labels():
    from django.utils import translation

    fill()
    analytics.refresh(periods=[30])
    for language, title in (("zh-hans", "热门标签"), ("en", "Top tags")):
        with translation.override(language):
            snapshot = analytics.snapshot_for(analytics.Period(days=30))
        assert snapshot.reports["top_tags"].title == title

"""Small builders for test data (plain functions: each test says what it needs)."""

import datetime
import itertools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from papers.models import Category, Digest, Entry, Figure, Paper, Section, SectionKind

_numbers = itertools.count(1)


def category(code: str = "cs.LG", name: str = "Machine Learning") -> Category:
    return Category.objects.get_or_create(code=code, defaults={"name": name})[0]


def paper(**fields) -> Paper:
    n = next(_numbers)
    fields.setdefault("arxiv_id", f"2509.{10000 + n:05d}")
    fields.setdefault("title", f"A Study of Things Number {n}")
    fields.setdefault("authors", "A Lovelace\nC Babbage")
    fields.setdefault("affiliations", "Analytical Engine Lab")
    fields.setdefault("abstract", f"We study things, number {n}, and find them interesting.")
    if "primary_category" not in fields:
        fields["primary_category"] = category()
    return Paper.objects.create(**fields)


def digest(*, entries: int = 0, status: str = "published", **fields) -> Digest:
    n = next(_numbers)
    fields.setdefault("title", f"AI前沿推介 第{n}期")
    fields.setdefault("slug", f"issue-{n}")
    fields.setdefault("issue_date", datetime.date(2025, 1, 1) + datetime.timedelta(days=n))
    if status in (Digest.Status.PUBLISHED, Digest.Status.ARCHIVED):
        fields.setdefault("published_at", timezone.now() - datetime.timedelta(hours=1))
    result = Digest.objects.create(status=status, **fields)
    for position in range(1, entries + 1):
        entry(digest=result, position=position)
    return result


def entry(*, digest: Digest, position: int = 1, with_sections: bool = True, **fields) -> Entry:
    fields.setdefault("paper", paper())
    fields.setdefault("title_zh", f"第{position}篇论文的中文标题")
    result = Entry.objects.create(digest=digest, position=position, **fields)
    if with_sections:
        for kind in SectionKind.objects.all():
            body = (
                f"- {kind.name_zh}第一条:推理与蒸馏 {position}\n- {kind.name_zh}第二条"
                if kind.is_list
                else f"{kind.name_zh}的正文,第{position}篇。"
            )
            Section.objects.create(entry=result, kind=kind, body=body)
        Figure.objects.create(entry=result, position=1, caption="图1", placeholder="Image on …")
    return result


def user(username: str = "reader", *, staff: bool = False, perms=(), superuser=False):
    account = get_user_model().objects.create_user(
        username=username,
        password="pw-for-tests-only",
        is_staff=staff or superuser,
        is_superuser=superuser,
    )
    for codename in perms:
        app_label, code = codename.split(".")
        account.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=code)
        )
    return account


def comment(*, on, status: str = "approved", **fields):
    """A reader's comment on ``on`` (a Digest or an Entry), approved unless told."""
    from comments.models import Comment
    from comments.services import body_key, email_key
    from papers.models import Entry

    n = next(_numbers)
    fields.setdefault("author_name", f"读者{n}")
    fields.setdefault("body", f"第{n}条评论:这篇论文很有启发。")
    fields.setdefault("email_hash", email_key(fields.get("email", "")))
    fields.setdefault("ip_address", "198.51.100.7")
    target = {"entry": on} if isinstance(on, Entry) else {"digest": on}
    return Comment.objects.create(
        **target, status=status, body_hash=body_key(fields["body"]), **fields
    )


def moderator(username: str = "moderator"):
    """A staff user in the Moderator group (created by migration 0004)."""
    from django.contrib.auth.models import Group

    account = user(username, staff=True)
    account.groups.add(Group.objects.get(name="Moderator"))
    return account

"""Demo comments for ``manage.py load_demo``: a few readers' comments on the newest demo
digest, through the real services, so the demo shows a pinned (精选) comment, a staff
reply and one comment waiting in the moderation queue."""

from comments import services as svc
from comments.models import Comment

READER_COMMENTS = [
    # (where: "digest" or an entry position, name, text, decision)
    ("digest", "林间读者", "每天早上先看这里的推介,再决定读哪几篇原文,省了不少时间。", "pin"),
    (1, "阿泽", "把描述长度和泛化联系起来的思路很有意思,*优化难题*那部分值得细读。", "reply"),
    (
        4,
        "Mia",
        "Would love a follow-up on how the code-induced reasoning results hold up at larger scale.",
        "approve",
    ),
    ("digest", "路过的学生", "能不能加一个按机构筛选论文的功能?", "pending"),
]
STAFF_REPLY = "谢谢留言!作者在附录里给了更多实验细节,下一期我们会继续跟进这个方向。"


def load_demo_comments(digests, *, by) -> int:
    """Add the demo comments to the newest of ``digests`` (the ones load_demo just created,
    so running it again adds nothing). Returns how many reader comments were added."""
    if not digests:
        return 0
    digest = max(digests, key=lambda d: d.issue_date)
    entries = {entry.position: entry for entry in digest.entries.select_related("paper")}
    added = 0
    for where, name, text, decision in READER_COMMENTS:
        target = digest if where == "digest" else entries.get(where)
        if target is None:
            continue
        result = svc.comment_submit(
            target=target, name=name, email="", body=text, ip="127.0.0.1", user_agent="demo"
        )
        comment = result.comment
        added += 1
        if decision == "pin":
            svc.comment_set_pinned(comment=comment, by=by, pinned=True)
        elif decision == "reply":
            svc.comment_reply(comment=comment, by=by, body=STAFF_REPLY)
        elif decision == "approve":
            svc.comment_moderate(comment=comment, by=by, status=Comment.Status.APPROVED)
    return added

"""Builds the embedded demo: the digests of editorial/demo_data.py, published, with small
generated figures. Used by ``manage.py load_demo`` and the tests."""

import datetime
import hashlib
import io
import zoneinfo

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from PIL import Image, ImageDraw

from editorial import services
from editorial.demo_data import DIGESTS
from papers.models import Category, Digest, Entry, Figure, Paper, Section, SectionKind

DEMO_LICENCE = "CC0 1.0 (demo illustration)"


def figure_png(seed: str, index: int) -> bytes:
    """A small deterministic chart standing in for a paper's figure."""
    digest = hashlib.sha256(f"{seed}:{index}".encode()).digest()
    width, height = 640, 360
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    hue = (digest[0], 90 + digest[1] % 100, 160 + digest[2] % 80)
    draw.line([(50, 310), (610, 310)], fill="#555555", width=2)
    draw.line([(50, 30), (50, 310)], fill="#555555", width=2)
    bars = 6
    for bar in range(bars):
        value = 40 + digest[3 + bar] % 240
        left = 70 + bar * 90
        draw.rectangle([left, 310 - value, left + 60, 309], fill=hue, outline="#333333")
    draw.text((60, 8), f"Figure {index}  ({seed})", fill="#333333")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _category(code: str) -> Category:
    category, _created = Category.objects.get_or_create(code=code, defaults={"name": code})
    return category


def _paper(data: dict) -> Paper:
    paper, _created = Paper.objects.update_or_create(
        arxiv_id=data["arxiv_id"],
        defaults={
            "title": data["title"],
            "authors": "\n".join(data["authors"]),
            "affiliations": "\n".join(data["affiliations"]),
            "abstract": data["abstract"],
            "primary_category": _category(data["primary_category"]),
            "published_on": datetime.date.fromisoformat(data["published_on"]),
        },
    )
    paper.categories.set([_category(code) for code in data.get("categories", [])])
    return paper


def _present(data: dict) -> bool:
    """The demo digest is in the database, at its address or at its ``former`` one (with
    the demo's title there, so a real issue imported for that date is not taken for it)."""
    if Digest.objects.filter(issue_date=data["issue_date"], slug=data["slug"]).exists():
        return True
    former = data.get("former")
    return (
        bool(former)
        and Digest.objects.filter(
            issue_date=former["issue_date"],
            slug=f"ai-frontier-{former['issue_date']}",
            title=former["title"],
        ).exists()
    )


@transaction.atomic
def load_demo(*, publisher) -> list[Digest]:
    """Create the demo digests that are missing; return the ones created. Digests that
    exist already (same date and slug, or where an earlier release put them) are left
    exactly as they are."""
    kinds = {kind.slug: kind for kind in SectionKind.objects.all()}
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    created = []
    for data in DIGESTS:
        issue_date = datetime.date.fromisoformat(data["issue_date"])
        if _present(data):
            continue
        digest = Digest.objects.create(
            title=data["title"], slug=data["slug"], issue_date=issue_date, summary=data["summary"]
        )
        digest.tags.set(data.get("tags", []))
        for position, entry_data in enumerate(data["entries"], start=1):
            entry = Entry.objects.create(
                digest=digest,
                paper=_paper(entry_data),
                position=position,
                title_zh=entry_data["title_zh"],
            )
            entry.tags.set(entry_data.get("tags", []))
            for slug, body in entry_data["sections"].items():
                Section.objects.create(entry=entry, kind=kinds[slug], body=body)
            for index, figure_data in enumerate(entry_data.get("figures", []), start=1):
                figure = Figure(
                    entry=entry,
                    position=index,
                    caption=figure_data["caption"],
                    alt_text=figure_data.get("alt", ""),
                    source_url=f"https://arxiv.org/abs/{entry_data['arxiv_id']}",
                    licence=DEMO_LICENCE,
                )
                figure.image.save(
                    f"demo-{index}.png",
                    ContentFile(figure_png(entry_data["arxiv_id"], index)),
                    save=False,
                )
                figure.save()
        go_live = datetime.datetime.combine(issue_date, datetime.time(8, 0), tzinfo=tz)
        created.append(services.digest_publish(digest=digest, by=publisher, at=go_live))
    return created

"""Smaller holes an outside test found (issue 22, item 10): blocklist spellings that slipped
through, a huge picture in a small PNG accepted as a figure, the language cookie without
Secure and SameSite, and a comment form on the share-link page that could not work."""

import json
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from comments.models import BlockedTerm, Comment
from editorial import services
from papers.models import Figure
from tests import factories
from tests.test_comments_posting import csrf_client, post
from tests.test_production_hostile import Hostile, _figure_form, _send, world  # noqa: F401
from tests.test_settings import _manage
from tests.workflow_support import role_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    settings.COMMENTS_RATE_LIMITS = []


# --- the blocklist matches what readers see, not the code points -------------------------

VARIANTS = [
    ("body", "来 ｃａｓｉｎｏ 玩", "casino"),  # full-width
    ("body", "visit ca\u200bsi\u200dno today", "casino"),  # zero-width space and joiner
    ("body", "cas\u00adi\u2060no", "casino"),  # soft hyphen, word joiner
    ("body", "best \u0441\u0430sin\u043e here", "casino"),  # Cyrillic с, а, о
    ("body", "\U0001d41c\U0001d41a\U0001d42c\U0001d422\U0001d427\U0001d428", "casino"),  # 𝐜𝐚𝐬𝐢𝐧𝐨
    ("body", "ⓒⓐⓢⓘⓝⓞ", "casino"),  # circled letters
    ("body", "c\u0301asino", "casino"),  # a combining accent
    ("body", "ca\ufe0fsino", "casino"),  # a variation selector
    ("body", "这里有博\u200b彩信息", "博彩"),  # Chinese, split by a zero-width space
    ("name", "Ｃａｓｉｎｏ King", "casino"),  # names too
    ("name", "Cas\u200bino", "casino"),
    ("name", "\u0421\u0410SIN\u041e", "casino"),  # Cyrillic capitals С, А, О
]


@pytest.mark.parametrize(("field", "value", "term"), VARIANTS, ids=[repr(v[1]) for v in VARIANTS])
def test_blocked_terms_match_full_width_zero_width_and_look_alike_spellings(field, value, term):
    BlockedTerm.objects.create(term="casino")
    BlockedTerm.objects.create(term="博彩")
    post(csrf_client(), factories.digest(), **{field: value})
    comment = Comment.objects.get()
    assert comment.status == Comment.Status.PENDING
    assert f"“{term}”" in comment.held_reason
    assert getattr(comment, "body" if field == "body" else "author_name") == value  # kept as typed


def test_a_term_typed_in_full_width_matches_plain_text_and_ordinary_comments_pass():
    BlockedTerm.objects.create(term="ＣＡＳＩＮＯ")
    digest = factories.digest()
    post(csrf_client(), digest, body="see casino.example")
    post(csrf_client(), digest, body="这篇论文的实验部分很扎实。Casual remarks on cassinos.")
    held = Comment.objects.get(body="see casino.example")
    assert "“ｃａｓｉｎｏ”" in held.held_reason  # the term as the moderator entered it
    clean = Comment.objects.get(body__startswith="这篇论文")
    assert "casino" not in clean.held_reason.casefold()


# --- figures: a pixel limit beside the byte limit ----------------------------------------


def blank_png(width: int, height: int) -> bytes:
    """A valid PNG of ``width`` × ``height`` black one-bit pixels: a few kilobytes whatever
    its size, as a decompression bomb is."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte, then the row's bits
    pixels = zlib.compress(row * height, 9)
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _upload(world, settings, tmp_path, png: bytes):  # noqa: F811 (the fixture, passed on)
    case = Hostile(
        "a figure",
        lambda w: f"/admin/papers/entry/{w.draft.entries.first().pk}/change/",
        method="post",
        user="chief",
        data=_figure_form(SimpleUploadedFile("figure.png", png, "image/png")),
    )
    return _send(case, world, settings, tmp_path)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # Pillow agrees
def test_a_144_megapixel_png_of_a_few_kilobytes_is_refused_with_a_clear_error(
    world,  # noqa: F811
    settings,
    tmp_path,
):
    png = blank_png(12000, 12000)
    assert len(png) < settings.FIGURE_MAX_BYTES // 100  # the byte limit cannot see it
    response = _upload(world, settings, tmp_path, png)
    assert response.status_code == 200  # the form again, with its error
    html = response.content.decode()
    assert "12000 × 12000" in html and "25" in html  # the size found, the limit
    assert not Figure.objects.filter(image__gt="").exists()


def test_a_figure_at_the_pixel_limit_is_accepted(world, settings, tmp_path):  # noqa: F811
    settings.FIGURE_MAX_PIXELS = 4000 * 3000
    response = _upload(world, settings, tmp_path, blank_png(4000, 3000))
    assert response.status_code == 302
    figure = Figure.objects.get(image__gt="")
    assert (figure.width, figure.height) == (4000, 3000)
    settings.FIGURE_MAX_PIXELS = 4000 * 3000 - 1
    figure.delete()
    assert _upload(world, settings, tmp_path, blank_png(4000, 3000)).status_code == 200
    assert not Figure.objects.filter(image__gt="").exists()


# --- the language cookie ------------------------------------------------------------------


def test_the_language_cookie_is_secure_and_same_site_in_production():
    """The test settings are the production ones (DEBUG off)."""
    response = Client().post("/i18n/setlang/", {"language": "en", "next": "/"}, secure=True)
    assert response.status_code == 302
    cookie = response.cookies["django_language"]
    assert cookie.value == "en"
    assert cookie["secure"] is True
    assert cookie["samesite"] == "Lax"


def test_the_language_cookie_follows_the_same_switch_as_the_session_cookie():
    """Secure in production, like the session cookie; in development (plain http on
    localhost) neither is, or the browser would drop them."""
    script = (
        "from django.conf import settings as s; import json; print(json.dumps(["
        "s.SESSION_COOKIE_SECURE, s.LANGUAGE_COOKIE_SECURE, s.LANGUAGE_COOKIE_SAMESITE]))"
    )
    production = _manage(
        "shell",
        "-c",
        script,
        DEBUG="0",
        SECRET_KEY="x7#kq!2v" * 8,
        ALLOWED_HOSTS="digest.example.com",
        LOG_LEVEL="ERROR",
    )
    development = _manage("shell", "-c", script, DEBUG="1", LOG_LEVEL="ERROR")
    for result in (production, development):
        assert result.returncode == 0, result.stderr
    assert json.loads(production.stdout.strip().splitlines()[-1]) == [True, True, "Lax"]
    assert json.loads(development.stdout.strip().splitlines()[-1]) == [False, False, "Lax"]


# --- the share-link page --------------------------------------------------------------------


@pytest.mark.parametrize("status", ["draft", "published"])
def test_the_share_link_page_shows_no_comment_form(status):
    digest = factories.digest(entries=1, status=status)
    link = services.share_link_create(digest=digest, by=role_user("editor"))
    response = Client().get(link.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="preview-banner"' in html
    assert 'id="comment-form"' not in html
    assert 'action="/comments/"' not in html
    assert 'id="comments"' not in html
    if status == "published":  # the public page keeps its form
        assert 'id="comment-form"' in Client().get(digest.get_absolute_url()).content.decode()

"""The mails subscribers get: the digest itself, and the confirmation.

The digest mail is rendered once per digest and language (templates/subscriptions/mail/),
its stylesheet moved into ``style`` attributes by css-inline (the only CSS every mail
program keeps), every link made absolute on ``SITE_URL``. What differs per subscriber (the
links to their page and to one-click unsubscribe) is a marker in that rendering, replaced
when each message is made, so 10,000 messages cost one rendering.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.charset import Charset
from email.utils import make_msgid
from urllib.parse import urlsplit

import css_inline
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from background.tasks import unsubscribe_headers
from papers.markup import absolute_links
from papers.models import Digest, SiteSettings

# Markers the rendering carries where each subscriber's own links go (no template or
# digest text produces them: they are replaced before a message leaves).
MANAGE_MARK = "subscriber-manage-link-6f1c0e"
UNSUBSCRIBE_MARK = "subscriber-unsubscribe-link-6f1c0e"

UTF8_BASE64 = Charset("utf-8")  # the standard library's UTF-8: base64 bodies

_inliner = css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)


def absolute(url: str) -> str:
    """``url`` on the site's address (media on object storage are absolute already)."""
    return url if urlsplit(url).scheme else settings.SITE_URL + url


def site_host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def digest_with_content(digest_id: int) -> Digest:
    """The digest with everything the mail shows, in a fixed number of queries."""
    return Digest.objects.with_content().get(pk=digest_id)


@dataclass
class DigestMail:
    """A digest rendered for mail in one language; ``message()`` makes each subscriber's."""

    subject: str
    text: str
    html: str

    def personal(self, *, manage_url: str, unsubscribe_url: str) -> tuple[str, str]:
        """(text, html) with one subscriber's links."""
        marks = ((MANAGE_MARK, manage_url), (UNSUBSCRIBE_MARK, unsubscribe_url))
        text, html = self.text, self.html
        for mark, url in marks:
            text = text.replace(mark, url)
            html = html.replace(mark, url)
        return text, html

    def message(
        self, *, to: str, manage_url: str, unsubscribe_url: str, connection=None
    ) -> EmailMultiAlternatives:
        text, html = self.personal(manage_url=manage_url, unsubscribe_url=unsubscribe_url)
        headers = {"Message-ID": make_msgid(domain=site_host()), "List-Id": list_id()}
        headers.update(unsubscribe_headers(unsubscribe_url))
        message = EmailMultiAlternatives(
            subject=self.subject,
            body=text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[to],
            headers=headers,
            connection=connection,
        )
        message.attach_alternative(html, "text/html")
        # Base64 parts: Chinese text in quoted-printable (Django's choice for UTF-8 text with
        # lines over 998 bytes) takes 9 bytes a character; a digest mail was 182 KB, 120 KB so.
        message.encoding = UTF8_BASE64
        return message


def list_id() -> str:
    """The List-Id of the digest mail (RFC 2919): mail programs group and filter by it."""
    return f"<digest.{site_host()}>"


def render_digest_mail(digest: Digest, *, language: str) -> DigestMail:
    """The digest as a mail in ``language``: subject, plain text and inlined HTML.
    ``digest`` comes from ``digest_with_content`` (entries, sections, figures prefetched)."""
    with translation.override(language):
        entries = list(digest.entries.all())
        for entry in entries:
            entry.mail_url = absolute(entry.get_absolute_url())
            entry.mail_sections = [
                (section, absolute_links(section.body_html, base=settings.SITE_URL))
                for section in entry.sections.all()
            ]
            entry.mail_figures = [
                (figure, absolute(figure.image.url))
                for figure in entry.figures.all()
                if figure.image
            ]
        context = {
            "digest": digest,
            "entries": entries,
            "tags": sorted(tag.name for tag in digest.tags.all()),
            "digest_url": absolute(digest.get_absolute_url()),
            "site": SiteSettings.load(),
            "site_url": settings.SITE_URL,
            "manage_url": MANAGE_MARK,
            "unsubscribe_url": UNSUBSCRIBE_MARK,
            "language": language,
        }
        text = render_to_string("subscriptions/mail/digest.txt", context)
        html = _inliner.inline(render_to_string("subscriptions/mail/digest.html", context))
    return DigestMail(subject=digest.title, text=text, html=html)

"""Schema.org data of the public pages (JSON-LD): the home page is the site's ``Blog``, a
digest a ``BlogPosting`` of it; a paper's page is a ``ScholarlyArticle`` (the paper, with
the digest's one-line summary as its review). Built from what the pages have loaded anyway:
no query. Written into the page by reading/templatetags/reading.py (``ld_json``), never as
HTML."""

from django.urls import reverse

CONTEXT = "https://schema.org"


def _blog(site, absolute) -> dict:
    return {"@type": "Blog", "name": site.site_name, "url": absolute(reverse("reading:home"))}


def _identity(paper) -> dict:
    """What the item is: an arXiv paper (``ScholarlyArticle`` with its id), or an item known
    by its link only (an ``Article``, the same as its source, without an identifier)."""
    if paper.is_link_sourced:
        return {"@type": "Article", "sameAs": paper.source_url}
    return {"@type": "ScholarlyArticle", "sameAs": paper.abs_url}


def _paper_ref(entry, absolute) -> dict:
    paper = entry.paper
    data = {
        "@type": _identity(paper)["@type"],
        "name": paper.title,
        "url": absolute(entry.get_absolute_url()),
        "sameAs": _identity(paper)["sameAs"],
    }
    if paper.arxiv_id:
        data["identifier"] = f"arXiv:{paper.arxiv_id}"
    return data


def site_blog(digests, *, site, absolute) -> dict:
    """The home page as the site's ``Blog``, listing the digests it shows."""
    return {
        "@context": CONTEXT,
        **_blog(site, absolute),
        "description": site.tagline,
        "inLanguage": "zh-Hans",
        "blogPost": [
            {
                "@type": "BlogPosting",
                "headline": digest.title,
                "url": absolute(digest.get_absolute_url()),
                "datePublished": digest.published_at,
            }
            for digest in digests
        ],
    }


def digest_posting(digest, entries, *, site, absolute, image: str = "") -> dict:
    """A digest as a ``BlogPosting``: its papers are what it is about."""
    url = absolute(digest.get_absolute_url())
    data = {
        "@context": CONTEXT,
        "@type": "BlogPosting",
        "headline": digest.title,
        "url": url,
        "mainEntityOfPage": url,
        "datePublished": digest.published_at,
        "dateModified": digest.updated_at,
        "inLanguage": "zh-Hans",
        "isPartOf": _blog(site, absolute),
        "publisher": {"@type": "Organization", "name": site.site_name},
        "about": [_paper_ref(entry, absolute) for entry in entries],
    }
    if digest.summary:
        data["description"] = digest.summary
    if image:
        data["image"] = image
    return data


def entry_article(entry, *, site, absolute, summary: str = "", image: str = "") -> dict:
    """A paper's page as a ``ScholarlyArticle``: the facts of the paper, the digest it
    appears in, the one-line summary as a review."""
    paper, digest = entry.paper, entry.digest
    url = absolute(entry.get_absolute_url())
    data = {
        "@context": CONTEXT,
        **_identity(paper),
        "headline": paper.title[:110],
        "name": paper.title,
        "url": url,
        "mainEntityOfPage": url,
        "author": [{"@type": "Person", "name": name} for name in paper.author_list],
        "inLanguage": "zh-Hans" if paper.is_link_sourced else "en",
        "isPartOf": {
            "@type": "BlogPosting",
            "headline": digest.title,
            "url": absolute(digest.get_absolute_url()),
            "isPartOf": _blog(site, absolute),
        },
    }
    if paper.arxiv_id:
        data["identifier"] = {
            "@type": "PropertyValue",
            "propertyID": "arXiv",
            "value": paper.arxiv_id,
        }
    if not paper.author_list:
        del data["author"]
    if entry.title_zh:
        data["alternativeHeadline"] = entry.title_zh
    if paper.abstract:
        data["abstract"] = paper.abstract
    if paper.published_on:
        data["datePublished"] = paper.published_on
    if paper.affiliations:
        data["sourceOrganization"] = [
            {"@type": "Organization", "name": name} for name in paper.affiliation_list
        ]
    if paper.primary_category_id:
        data["about"] = paper.primary_category.code
    if summary:
        data["review"] = {
            "@type": "Review",
            "reviewBody": summary,
            "inLanguage": "zh-Hans",
            "publisher": {"@type": "Organization", "name": site.site_name},
        }
    if image:
        data["image"] = image
    return data

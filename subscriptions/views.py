"""The reader's side of subscriptions: the sign-up page (public, cached like any page), and
the pages a subscriber reaches through the signed links in their mail (never cached:
PAGE_CACHE_EXCLUDE). The sign-up form reuses the comment form's defences (comments/
services.py): the honeypot field, the signed stamp that catches forms sent too fast, the
per-address rate limit and the counter of dropped bots; CSRF comes from the middleware."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods
from taggit.models import Tag

from comments import services as guard
from pagecache import store as pages
from papers.models import Category
from subscriptions import services as svc
from subscriptions.models import Subscriber

SCOPES = [
    ("all", gettext_lazy("Every new digest")),
    ("chosen", gettext_lazy("Only digests with the tags or categories I choose")),
]


class ChoicesForm(forms.Form):
    """What a subscriber receives: every digest, or those with chosen tags or categories."""

    scope = forms.ChoiceField(choices=SCOPES, initial="all", widget=forms.RadioSelect)
    tags = forms.ModelMultipleChoiceField(
        queryset=Tag.objects.all(), to_field_name="name", required=False
    )
    categories = forms.ModelMultipleChoiceField(
        queryset=Category.objects.all(), to_field_name="code", required=False
    )

    def clean(self):
        data = super().clean()
        if (
            data.get("scope") == "chosen"
            and not data.get("tags")
            and not data.get("categories")
            and not self.errors
        ):
            raise ValidationError(
                _("Choose at least one tag or category, or subscribe to every digest.")
            )
        return data

    def choices(self) -> dict:
        data = self.cleaned_data
        everything = data["scope"] == "all"
        return {
            "everything": everything,
            "tags": [] if everything else list(data["tags"]),
            "categories": [] if everything else list(data["categories"]),
        }


NAMED_MAX = 20  # tags or categories a link to the sign-up page may choose


class SubscribeForm(ChoicesForm):
    email = forms.EmailField(label=gettext_lazy("Email"), max_length=254)
    stamp = forms.CharField(widget=forms.HiddenInput, required=False, max_length=200)
    website = forms.CharField(required=False)  # the honeypot: people never see it


def _picker(request, form, *, chosen_tags=(), chosen_categories=()) -> dict:
    """The tags and categories the page offers: tags of recent digests and any already
    chosen or named in the address (?tag=…), every category; checked ones marked."""
    chosen_tags = {str(t) for t in chosen_tags}
    chosen_categories = {str(c) for c in chosen_categories}
    tags = {t.name for t in svc.recent_tags()} | chosen_tags
    return {
        "form": form,
        "tag_options": [(name, name in chosen_tags) for name in sorted(tags)],
        "category_options": [
            (c, c.code in chosen_categories) for c in svc.category_choices().only("code", "name")
        ],
        "stamp": guard.form_stamp(request),
    }


def _posted(form, name):
    return form.data.getlist(name) if form.is_bound else []


@require_http_methods(["GET", "HEAD", "POST"])
def subscribe(request):
    """The sign-up page and form. Whatever happens to a valid address (new, pending,
    subscribed already, or a bot's), the reader sees the same "check your inbox" page:
    the form tells nobody who is subscribed."""
    if request.method != "POST":
        # Names from the address, as typed (a few): one with a NUL, which PostgreSQL
        # refuses, names nothing.
        named_tags = [n for n in request.GET.getlist("tag")[:NAMED_MAX] if "\x00" not in n]
        named_categories = [
            c for c in request.GET.getlist("category")[:NAMED_MAX] if "\x00" not in c
        ]
        tags, codes = [], []
        if named_tags:
            tags = list(Tag.objects.filter(name__in=named_tags).values_list("name", flat=True))
        if named_categories:
            codes = list(
                Category.objects.filter(code__in=named_categories).values_list("code", flat=True)
            )
        if set(named_tags) - set(tags) or set(named_categories) - set(codes):
            pages.dont_store(request)  # a name that is no tag or category: never kept
        initial = {"scope": "chosen" if tags or codes else "all"}
        form = SubscribeForm(initial=initial)
        return render(
            request,
            "subscriptions/subscribe.html",
            _picker(request, form, chosen_tags=tags, chosen_categories=codes)
            | {"scope": initial["scope"]},
        )

    form = SubscribeForm(request.POST)

    def again(status):
        context = _picker(
            request,
            form,
            chosen_tags=_posted(form, "tags"),
            chosen_categories=_posted(form, "categories"),
        )
        context["scope"] = form.data.get("scope") or "all"
        return render(request, "subscriptions/subscribe.html", context, status=status)

    if not form.is_valid():
        return again(400)
    data = form.cleaned_data
    wait = guard.rate_limited(
        "subscribe-ip", guard.client_ip(request), limits=svc.conf("RATE_LIMITS")
    )
    if wait:
        response = render(
            request, "subscriptions/rate_limited.html", {"wait": wait, "form": form}, status=429
        )
        response["Retry-After"] = str(wait)
        return response
    age = guard.stamp_age(data["stamp"])
    if data["website"] or age is None or age < guard.conf("MIN_FILL_SECONDS"):
        # A bot: it sees exactly what a person sees; only the daily counter records it.
        guard.count_dropped(
            "subscribe-honeypot"
            if data["website"]
            else "subscribe-no-stamp"
            if age is None
            else "subscribe-too-fast"
        )
        return HttpResponseRedirect(reverse("subscriptions:sent"), status=303)
    try:
        svc.subscribe(email=data["email"], language=get_language(), **form.choices())
    except ValidationError as exc:
        form.add_error(None, exc)
        return again(400)
    return HttpResponseRedirect(reverse("subscriptions:sent"), status=303)


def _private(response):
    patch_cache_control(response, private=True, no_store=True)
    return response


@require_GET
def sent(request):
    return _private(render(request, "subscriptions/sent.html", {}))


def _bad_link(request, *, expired=False):
    if expired:
        message = _(
            "This confirmation link has expired (links work for %(hours)d hours). Sign up "
            "again and we will send a new one."
        ) % {"hours": svc.conf("CONFIRM_HOURS")}
    else:
        message = _(
            "This link is incomplete, was changed, or its subscription no longer exists. "
            "Copy the whole link from the mail, or sign up again."
        )
    return _private(
        render(
            request,
            "subscriptions/link_invalid.html",
            {"message": message, "expired": expired},
            status=400 if not expired else 410,
        )
    )


@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request, token):
    """The confirmation link. GET shows a button (mail scanners follow links: a GET alone
    confirms nothing); pressing it confirms and opens the subscriber's page."""
    try:
        subscriber = svc.subscriber_for_confirm_token(token)
    except svc.ExpiredLink:
        return _bad_link(request, expired=True)
    except svc.BadLink:
        return _bad_link(request)
    if request.method == "POST":
        subscriber = svc.subscriber_confirm(subscriber=subscriber)
        messages.success(request, _("Thank you: your subscription is confirmed."))
        url = reverse("subscriptions:manage", kwargs={"token": svc.manage_token(subscriber)})
        return HttpResponseRedirect(url, status=303)
    return _private(
        render(
            request,
            "subscriptions/confirm.html",
            {"subscriber": subscriber, "choices": svc.describe_choices(subscriber)},
        )
    )


@require_http_methods(["GET", "HEAD", "POST"])
def manage(request, token):
    """The subscriber's page, through the signed link in every mail: what they receive,
    unsubscribe, subscribe again."""
    try:
        subscriber = svc.subscriber_for_token(token)
    except svc.BadLink:
        return _bad_link(request)
    form = None
    if request.method == "POST":
        if request.POST.get("action") == "resubscribe":
            subscriber = svc.subscriber_resubscribe(subscriber=subscriber)
            if subscriber.status == Subscriber.Status.CONFIRMED:
                messages.success(request, _("You are subscribed again."))
            else:
                messages.info(request, _("We sent a confirmation link to your address."))
            return HttpResponseRedirect(request.path, status=303)
        form = ChoicesForm(request.POST)
        if form.is_valid():
            svc.subscriber_change(subscriber=subscriber, **form.choices())
            messages.success(request, _("Saved: your choices are changed."))
            return HttpResponseRedirect(request.path, status=303)
    tags = [t.name for t in subscriber.tags.all()]
    codes = [c.code for c in subscriber.categories.all()]
    scope = "all" if subscriber.everything else "chosen"
    if form is not None:
        tags, codes = _posted(form, "tags"), _posted(form, "categories")
        scope = form.data.get("scope") or scope
    context = _picker(request, form or ChoicesForm(), chosen_tags=tags, chosen_categories=codes)
    context.update(
        {
            "subscriber": subscriber,
            "scope": scope,
            "choices": svc.describe_choices(subscriber),
            "unsubscribe_url": reverse("subscriptions:unsubscribe", kwargs={"token": token}),
        }
    )
    return _private(
        render(request, "subscriptions/manage.html", context, status=400 if form else 200)
    )


@csrf_exempt  # RFC 8058: mail programs POST "List-Unsubscribe=One-Click" with no token
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token):
    """One-click unsubscribe. A POST (a mail program's unsubscribe button, or this page's)
    unsubscribes, without a login or a token; a GET only shows the button, because mail
    scanners follow every link in a mail."""
    try:
        subscriber = svc.subscriber_for_token(token)
    except svc.BadLink:
        return _bad_link(request)
    done = request.method == "POST"
    if done:
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        how = _("one click in a mail program") if one_click else _("the unsubscribe page")
        subscriber = svc.subscriber_unsubscribe(subscriber=subscriber, how=how)
    return _private(
        render(
            request,
            "subscriptions/unsubscribe.html",
            {
                "subscriber": subscriber,
                "done": done,
                "manage_url": reverse("subscriptions:manage", kwargs={"token": token}),
            },
        )
    )

from .models import SiteSettings


def site(request):
    """The editable site texts (name, tagline, footer) for every template."""
    return {"site": SiteSettings.load()}

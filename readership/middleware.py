"""Counts the reader's view of a page, or their search, marked by the view (readership/counting.py).

Placed above the page cache, so pages served from it count like rendered ones; the mark is
removed before the response leaves. A failing cache counts nothing and breaks nothing.
"""

from readership import counting


class ReadershipMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        page = response.get(counting.HEADER)
        if page:
            del response[counting.HEADER]
        if page and response.status_code == 200 and counting.conf("COUNTING", True):
            kind, _, number = page.partition(":")
            if kind in counting.KINDS and number.isdigit():
                counting.count_safely(counting.count_view, request, kind, int(number))
            elif kind == "search" and number.isdigit():
                query = request.GET.get("q", "")
                counting.count_safely(counting.count_search, request, query, int(number))
        return response

"""CSV downloads that spreadsheet programs open safely: UTF-8 with a byte-order mark (so they
read the Chinese), and text that starts like a formula (an address such as ``=1+2@x.org`` is
valid, a reader's search is anything) written as text, so opening the file runs nothing."""

import csv

from django.http import HttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def as_text(value):
    """``value`` for a spreadsheet cell: a string that starts like a formula gets a leading
    apostrophe (shown by no spreadsheet program, kept by every one as "this is text")."""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value


def csv_response(rows, filename: str) -> HttpResponse:
    """``rows`` (the header first) as a CSV attachment named ``filename``."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")
    csv.writer(response).writerows([[as_text(value) for value in row] for row in rows])
    return response

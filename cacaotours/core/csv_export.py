"""CSV files that staff and leaders open in a spreadsheet: cells that cannot run as formulas."""

import csv
import io
from collections.abc import Iterable

from django.http import HttpResponse

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> str:
    """The cell as text, with a leading apostrophe when a spreadsheet would read it as a formula
    (OWASP "CSV injection"): a name typed as ``=HYPERLINK(...)`` stays text."""
    text = str(value)
    return "'" + text if text[:1] in FORMULA_PREFIXES else text


def csv_response(*, header: Iterable, rows: Iterable[Iterable], filename: str) -> HttpResponse:
    """A CSV download (UTF-8 with a BOM so spreadsheets read accents; every cell through ``csv_safe``)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow([csv_safe(cell) for cell in header])
    for row in rows:
        writer.writerow([csv_safe(cell) for cell in row])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response

"""A list as a CSV download: UTF-8 with a BOM (so a spreadsheet reads Cyrillic), and every
text cell a spreadsheet would run as a formula defused the way payroll exports are.

A download is made only when every filter of its query string could be used: a file that
quietly ignored one would be taken for what was asked."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from flask import Response, render_template, session, stream_with_context
from flask_babel import gettext

from scoring.payroll.exports import safe_text


def refused_filter() -> Response | None:
    """A 400 page when a filter was refused (its message, flashed, is shown with it)."""
    if any(category == "error" for category, _ in session.get("_flashes", [])):
        return Response(render_template("error.html", message=gettext(
            "Nothing was downloaded: correct the filter above and try again.")), 400)
    return None


def _line(row: list) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(
        [safe_text(v) if isinstance(v, str) else ("" if v is None else v) for v in row])
    return out.getvalue()


def csv_response(filename: str, header: list[str], rows: Iterable[list]) -> Response:
    """Streamed: ``rows`` may be a generator that reads the database as the file is sent
    (the request context stays open for it, so gettext and the session still work)."""
    def lines():
        yield "\ufeff" + _line(header)
        for row in rows:
            yield _line(row)
    return Response(stream_with_context(lines()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})

"""Paging for every dashboard list: which page the query string asks for, and the page's
place in the whole ("1–50 of 1,548"), so no list is ever cut silently."""
from __future__ import annotations

from dataclasses import dataclass

from flask import flash, request, url_for
from flask_babel import gettext

from dashboard.i18n import shown

PAGE_SIZE = 50
MAX_PAGE = 10**6


@dataclass(frozen=True)
class Page:
    number: int      # 1-based, within [1, pages]
    size: int
    total: int       # rows in the whole selection
    arg: str         # the query-string argument that picks the page

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def first(self) -> int:
        return self.offset + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.offset + self.size, self.total)

    def url(self, number: int, anchor: str | None = None) -> str:
        """This page's URL with every other argument kept, showing page ``number``."""
        args = {**request.view_args, **request.args.to_dict(), self.arg: number}
        return url_for(request.endpoint, _anchor=anchor, **args)


def page_number(arg: str = "page") -> int:
    """The page asked for: a whole number from 1; anything else shows the first page and says so."""
    raw = (request.args.get(arg) or "").strip()
    if not raw:
        return 1
    if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_PAGE:
        return int(raw)
    flash(gettext("Page: “%(value)s” is not a page number, so the first page is shown.", value=shown(raw)), "error")
    return 1


def paged(total: int, arg: str = "page", size: int = PAGE_SIZE) -> Page:
    """The page of a list of ``total`` rows; a page past the end shows the last one."""
    pages = max(1, -(-total // size))
    return Page(min(page_number(arg), pages), size, total, arg)

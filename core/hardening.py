"""What a request may carry before any view sees it: ids in URLs, text in URLs, and the body's size.

The third part of the input-hardening layer is ``core.forms.PlainText``, which ``BaseForm`` gives every
text field. Installed by ``create_app`` (``init_app``), so every route is covered without a view
doing anything: a new route gets the same rules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, Request, current_app
from werkzeug.routing import IntegerConverter, Map, UnicodeConverter, ValidationError

# Ids are 32-bit integers in the database. A bigger one in a URL must be "not found", not a query that
# PostgreSQL refuses (a 500) or that SQLite overflows.
MAX_ID = 2**31 - 1
# Room for a multipart body's own headers and the form's other fields on top of an upload's limit, so a
# file a little too large still reaches the form's own check (a message by the field, not the 413 page).
UPLOAD_MARGIN_BYTES = 1024 * 1024
_UPLOAD_SETTING = "_upload_limit_setting"

View = TypeVar("View", bound=Callable)


class IdConverter(IntegerConverter):
    """The app's ``int``: a database id, 1 to 2^31-1. Anything else matches no route, so it is a 404."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = 1, max: int | None = MAX_ID, signed=False):  # noqa: A002 - werkzeug's names
        super().__init__(map, fixed_digits, min, max, signed)

    def to_python(self, value: str) -> int:
        if len(value) > len(str(MAX_ID)):  # also spares int() a 5,000-digit string, which it refuses
            raise ValidationError()
        return super().to_python(value)


def database_id(value: str) -> int:
    """An id from a query string or a form, for ``request.args.get(name, type=database_id)``: a whole
    number 1..2^31-1, else ValueError (so ``get`` gives its default, as for no id at all)."""
    if not (value.isascii() and value.isdigit() and len(value) <= len(str(MAX_ID))) or not 0 < int(value) <= MAX_ID:
        raise ValueError(f"not an id: {value[:20]!r}")
    return int(value)


class TextConverter(UnicodeConverter):
    """The app's default (and ``string``) URL part: no control characters, and not absurdly long.

    Codes in URLs (a task type, a clearance type) are looked up, never stored; a NUL or a line break in
    one is a crafted URL, and is simply not found.
    """

    def __init__(self, map: Map, minlength: int = 1, maxlength: int | None = 200, length: int | None = None):
        super().__init__(map, minlength, maxlength, length)
        self.regex = self.regex.replace("[^/]", r"[^/\x00-\x1f\x7f]", 1)


class LimitedRequest(Request):
    """A request whose body may be at most ``MAX_CONTENT_LENGTH`` bytes, unless its view accepts an
    upload (``accepts_upload``): then the setting that view names, plus a margin for the form around it.

    Decided from the route, before anything reads the body (CSRF protection reads the form first).
    """

    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is not None:
            return self._max_content_length
        if not current_app:  # a request built outside the app (a test helper, say): werkzeug's default
            return super().max_content_length
        return upload_limit(self) + UPLOAD_MARGIN_BYTES if _upload_setting(self) else upload_limit(self)

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


def accepts_upload(setting: str) -> Callable[[View], View]:
    """Let this view receive a body as large as the configuration's ``setting`` (in bytes), not just
    ``MAX_CONTENT_LENGTH``. The view's form still checks the file's own size, with a message by it."""

    def mark(view: View) -> View:
        setattr(view, _UPLOAD_SETTING, setting)
        return view

    return mark


def _upload_setting(request: Request) -> str | None:
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return getattr(view, _UPLOAD_SETTING, None)


def upload_limit(request: Request) -> int:
    """The most this request's page accepts, in bytes, as a person would be told it."""
    setting = _upload_setting(request)
    return int(current_app.config[setting or "MAX_CONTENT_LENGTH"])


def size_text(n_bytes: int) -> str:
    """'1 MB', '20 MB', '512 KB'."""
    if n_bytes >= 1024 * 1024:
        return f"{n_bytes / (1024 * 1024):g} MB"
    if n_bytes >= 1024:
        return f"{n_bytes // 1024} KB"
    return f"{n_bytes} bytes"


def init_app(app: Flask) -> None:
    """Before any route is added: the URL converters every rule is built with, and the request class."""
    app.url_map.converters.update(int=IdConverter, default=TextConverter, string=TextConverter)
    app.request_class = LimitedRequest

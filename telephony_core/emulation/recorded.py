"""What an emulator server saw: one :class:`RecordedRequest` per request read completely."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import attrs
from requests.structures import CaseInsensitiveDict

__all__ = ["RecordedRequest"]


def _headers(value: Mapping[str, str]) -> CaseInsensitiveDict:
    return value if isinstance(value, CaseInsensitiveDict) else CaseInsensitiveDict(value)


@attrs.frozen
class RecordedRequest:
    """One request as it arrived on the wire.

    ``path`` is percent-decoded and excludes the query; ``raw_path`` is the request target as
    sent. ``query`` keeps the last value of a repeated key, ``query_list`` keeps them all in
    order. ``headers`` is a case-insensitive mapping (a header sent twice keeps its last
    value). ``fault`` names the fault the server applied to this request (``None`` when it
    was served normally) and ``reached_app`` says whether the application processed it.
    ``client_port`` is the client's source port: requests sharing one came over one
    kept-alive connection.
    """

    method: str
    path: str
    raw_path: str = attrs.field(repr=False)  # may carry a token in its query
    query_list: tuple[tuple[str, str], ...] = attrs.field(repr=False)
    headers: CaseInsensitiveDict = attrs.field(converter=_headers, repr=False)
    body: bytes = attrs.field(repr=False)
    fault: str | None = None
    reached_app: bool = True
    client_port: int = attrs.field(default=0, repr=False)
    received_at: float = attrs.field(factory=time.time, repr=False)

    @property
    def query(self) -> dict[str, str]:
        """The query string as a dict; a repeated key keeps its last value."""
        return dict(self.query_list)

    def header(self, name: str, default: str | None = None) -> str | None:
        """One header, looked up case-insensitively."""
        return self.headers.get(name, default)

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-cased ("" when absent)."""
        return (self.header("Content-Type") or "").split(";")[0].strip().lower()

    def json(self) -> Any:
        """The body parsed as JSON (raises ``ValueError`` when it is not JSON)."""
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        """Form fields of an urlencoded or multipart/form-data body (last value wins).

        Uploaded files of a multipart body are left out; see :meth:`files`.
        """
        if self.content_type == "multipart/form-data":
            fields, _ = self._multipart()
            return fields
        text = self.body.decode("utf-8", errors="replace")
        return dict(parse_qsl(text, keep_blank_values=True))

    def files(self) -> dict[str, bytes]:
        """Uploaded files of a multipart/form-data body, by field name."""
        if self.content_type != "multipart/form-data":
            return {}
        _, files = self._multipart()
        return files

    def _multipart(self) -> tuple[dict[str, str], dict[str, bytes]]:
        import io

        from werkzeug.formparser import parse_form_data

        environ = {
            "REQUEST_METHOD": self.method,
            "CONTENT_TYPE": self.header("Content-Type") or "",
            "CONTENT_LENGTH": str(len(self.body)),
            "wsgi.input": io.BytesIO(self.body),
        }
        _, form, files = parse_form_data(environ)
        return ({k: form.getlist(k)[-1] for k in form},
                {k: files.getlist(k)[-1].read() for k in files})

    def __str__(self) -> str:
        return f"{self.method} {self.path}" + (f" [{self.fault}]" if self.fault else "")

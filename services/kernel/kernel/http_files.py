"""File uploads over HTTP, one piece of code for every service (referral materials, grid
dispatch photos R-GRD-01): a multipart/form-data body read as it arrives (issue 16 finding 4),
the refusal of a declared length over the cap before a byte is read, and the route class
answering 413 (too large) and 415 (media type not accepted).

Starlette's ``request.form()`` parses the whole body before the route runs and spools each
file part to a ``SpooledTemporaryFile`` (memory, then /tmp): an upload of 200 MiB by anyone
with a token would fill a pod's /tmp before anyone asked whether the caller may upload. Here
the route authorizes first, then the body is fed to python-multipart's push parser chunk by
chunk: the small text fields before the file part are collected (bounded), and the file
part's bytes are handed on as they are parsed, straight into the store. A hard cap on the
bytes read applies to the whole body, declared length or chunked.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request
from starlette.responses import StreamingResponse

from kernel.errors import DomainError, ValidationFailed
from kernel.http import JsonErrorRoute, download_headers
from kernel.store import StoredFile

__all__ = [
    "FRAMING_BYTES",
    "FilePart",
    "FileRoute",
    "StreamingForm",
    "file_download",
    "too_large",
    "upload_form",
]

# Multipart framing around the file: a request larger than the limit plus this cannot hold
# an acceptable file and is refused before its body is read.
FRAMING_BYTES = 64 * 1024

MAX_FIELDS = 8
MAX_FIELD_BYTES = 4096

_BEGIN, _HEADER_FIELD, _HEADER_VALUE, _HEADER_END, _HEADERS_DONE, _DATA, _PART_END, _END = range(8)


@dataclass(frozen=True)
class FilePart:
    filename: str
    content_type: str


def _decode(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed(f"the multipart {what} is not UTF-8", field="file") from None


class StreamingForm:
    """One request's multipart body, parsed as it is read; at most ``cap`` bytes of it."""

    def __init__(self, chunks: AsyncIterator[bytes], boundary: bytes, cap: int) -> None:
        self._chunks = chunks
        self._cap = cap
        self._read = 0
        self._ended = False
        self._events: deque[tuple[int, bytes]] = deque()

        def data(kind: int) -> object:
            return lambda buf, start, end: self._events.append((kind, bytes(buf[start:end])))

        def mark(kind: int) -> object:
            return lambda: self._events.append((kind, b""))

        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": mark(_BEGIN),
                "on_header_field": data(_HEADER_FIELD),
                "on_header_value": data(_HEADER_VALUE),
                "on_header_end": mark(_HEADER_END),
                "on_headers_finished": mark(_HEADERS_DONE),
                "on_part_data": data(_DATA),
                "on_part_end": mark(_PART_END),
                "on_end": mark(_END),
            },  # type: ignore[arg-type]
        )

    @classmethod
    def of(cls, request: Request, cap: int) -> StreamingForm:
        content_type, options = parse_options_header(request.headers.get("content-type", ""))
        boundary = options.get(b"boundary")
        if content_type != b"multipart/form-data" or not boundary:
            raise ValidationFailed(
                "send multipart/form-data with the fields and then a 'file' part", field="file"
            )
        return cls(request.stream(), boundary, cap)

    async def _next(self) -> tuple[int, bytes]:
        while not self._events:
            if self._ended:
                raise ValidationFailed(
                    "the multipart body ends before it is complete", field="file"
                )
            chunk = await anext(self._chunks, None)
            if chunk is None:
                self._ended = True
                self._parser.finalize()
                continue
            self._read += len(chunk)
            if self._read > self._cap:
                raise ValidationFailed(
                    f"the request is larger than the limit of {self._cap} bytes: the file is "
                    f"larger than the limit",
                    field="file",
                )
            try:
                self._parser.write(chunk)
            except MultipartParseError as exc:
                raise ValidationFailed(
                    f"the multipart body is malformed: {exc}", field="file"
                ) from None
        return self._events.popleft()

    async def _headers(self) -> dict[bytes, bytes]:
        headers: dict[bytes, bytes] = {}
        name, value = b"", b""
        while True:
            kind, data = await self._next()
            if kind == _HEADER_FIELD:
                name += data
            elif kind == _HEADER_VALUE:
                value += data
            elif kind == _HEADER_END:
                headers[name.strip().lower()] = value.strip()
                name, value = b"", b""
            elif kind == _HEADERS_DONE:
                return headers

    async def fields_before_file(self) -> tuple[dict[str, str], FilePart]:
        """The text fields up to the first file part, and that part's name and type."""
        fields: dict[str, str] = {}
        while True:
            kind, _ = await self._next()
            if kind == _END:
                raise ValidationFailed("the multipart 'file' part is missing", field="file")
            if kind != _BEGIN:
                continue
            headers = await self._headers()
            _, options = parse_options_header(headers.get(b"content-disposition", b""))
            name = _decode(options.get(b"name", b""), "part name")
            if b"filename" in options:
                if name != "file":
                    raise ValidationFailed(
                        f"a file came in the part {name!r}; send it as 'file'", field="file"
                    )
                filename = _decode(options[b"filename"], "file name")
                media = _decode(headers.get(b"content-type", b""), "content type")
                return fields, FilePart(filename, media)
            if len(fields) >= MAX_FIELDS:
                raise ValidationFailed(f"at most {MAX_FIELDS} fields", field="file")
            value = b""
            while (event := await self._next())[0] == _DATA:
                value += event[1]
                if len(value) > MAX_FIELD_BYTES:
                    raise ValidationFailed(
                        f"the field {name!r} is longer than {MAX_FIELD_BYTES} bytes", field=name
                    )
            fields[name] = _decode(value, f"field {name!r}").strip()

    async def file_chunks(self) -> AsyncIterator[bytes]:
        """The file part's bytes as they arrive; then the rest of the body, which may hold
        nothing but the closing boundary (the fields come first, one file per request)."""
        while True:
            kind, data = await self._next()
            if kind == _DATA:
                if data:
                    yield data
            elif kind == _PART_END:
                break
        kind, _ = await self._next()
        if kind != _END:
            raise ValidationFailed(
                "one file per request, and the fields before it (kind, name, sha256)",
                field="file",
            )


def too_large(limit: int) -> ValidationFailed:
    """The refusal of a file over ``limit`` bytes (413 on a ``FileRoute``)."""
    return ValidationFailed(f"the file is larger than the limit of {limit} bytes", field="file")


def upload_form(request: Request, limit: int) -> StreamingForm:
    """The request's multipart body for a file of at most ``limit`` bytes; call it after
    the caller was authorized. A declared length that cannot hold an acceptable file is
    refused before the body is read; a chunked one is capped while it is read."""
    declared_length = request.headers.get("content-length")
    if (
        declared_length
        and declared_length.isdigit()
        and int(declared_length) > limit + FRAMING_BYTES
    ):
        raise too_large(limit)
    return StreamingForm.of(request, limit + FRAMING_BYTES)


class FileRoute(JsonErrorRoute):
    """The kernel's JSON errors, with 413 for a file too large and 415 for a media type
    that is not accepted."""

    def status_of(self, exc: DomainError) -> int:
        if exc.stable_code == "VALIDATION_FAILED" and exc.field == "file" and "larger" in str(exc):
            return 413
        if exc.stable_code == "VALIDATION_FAILED" and exc.field == "mediaType":
            return 415
        return super().status_of(exc)


def file_download(
    info: StoredFile, chunks: AsyncIterator[bytes], name: str | None = None
) -> StreamingResponse:
    """A stored file's content streamed back with its length, digest and name."""
    return StreamingResponse(
        chunks,
        media_type=info.media_type,
        headers={
            "Content-Length": str(info.size),
            "X-Content-SHA256": info.sha256,
            **download_headers(name or info.filename),
        },
    )

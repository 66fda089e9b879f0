"""HTTP-level guards: a body-size limit (413) and 422 answers that name each field at fault."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from journeys.service.schemas import MAX_BODY_BYTES


class BodyTooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(413, f"request body larger than {MAX_BODY_BYTES} bytes; send smaller batches")


class BodySizeLimit:
    """ASGI middleware: 413 before reading a body that announces, or turns out, too large."""

    def __init__(self, app: Any, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            status = 413 if declared.isdigit() else 400
            message = BodyTooLarge().detail if status == 413 else "invalid Content-Length header"
            await JSONResponse({"detail": message}, status_code=status)(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> dict:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise BodyTooLarge()
            return message

        await self.app(scope, limited_receive, send)


def _field_path(loc: tuple[Any, ...]) -> str:
    """`("body", "contacts", 3, "num_sessions")` -> `contacts[3].num_sessions`."""
    path = ""
    for part in loc[1:] if loc and loc[0] == "body" else loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "body"


async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    """422 naming each field at fault; the offending value is not echoed (it may be personal data)."""
    detail = [
        {"field": _field_path(tuple(error["loc"])), "message": error["msg"], "type": error["type"]}
        for error in exc.errors()
    ]
    return JSONResponse({"detail": detail}, status_code=422)

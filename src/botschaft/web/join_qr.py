"""QR codes of click-to-chat links, drawn here (segno) so no image service learns the code."""

from __future__ import annotations

import io

import segno
from fastapi.responses import Response

_MEDIA_TYPES = {"svg": "image/svg+xml", "png": "image/png"}


def qr_bytes(data: str, kind: str) -> bytes:
    """``data`` as a QR code image: ``svg`` (sharp at any size) or ``png`` (for print tools).

    Error correction M survives a scratched print; the quiet zone of four modules is what
    scanners expect around a code.
    """
    code = segno.make(data, error="m", micro=False)
    buffer = io.BytesIO()
    if kind == "svg":
        code.save(buffer, kind="svg", scale=8, border=4, dark="#14202b", xmldecl=False,
                  svgns=True, title="QR code")
    else:
        code.save(buffer, kind="png", scale=8, border=4, dark="#14202b")
    return buffer.getvalue()


def qr_response(data: str, kind: str) -> Response:
    """The QR code as an HTTP answer; private, since it carries a person's agreement code."""
    return Response(qr_bytes(data, kind), media_type=_MEDIA_TYPES[kind], headers={
        "Cache-Control": "private, max-age=3600",
        "X-Content-Type-Options": "nosniff",
    })

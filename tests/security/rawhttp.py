"""Hand-written HTTP/1.1 requests for attacks a client library would not send."""

from __future__ import annotations

import asyncio


async def raw_request(port: int, head: str, body: bytes = b"") -> tuple[int, str]:
    """Send ``head`` (request line + headers, CRLF-joined, no blank line) and ``body``;
    return (status, response text)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        if body:
            head += f"\r\nContent-Length: {len(body)}"
        writer.write(head.encode("latin-1") + b"\r\nConnection: close\r\n\r\n" + body)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    text = data.decode("utf-8", "replace")
    status = int(text.split(" ", 2)[1]) if text.startswith("HTTP/") else 0
    return status, text

"""`image_url` intake of chat requests: data: URIs are decoded; a remote URL is fetched only when
its origin is on the configured allow-list (gateway/origins.py), with a timeout and a size cap,
never following a redirect (it could lead off the list). Everything else is a typed 4xx.
"""
from __future__ import annotations

import re

import httpx

from services.common.errors import ErrorCode, PerceptError

from .chat_schemas import DATA_URI_HEADER
from .origins import allowed
from .schemas import decode_base64

# data:[<media type>][;parameters];base64,<data> -- only base64: images are binary. What the document's
# pattern states (chat_schemas.DATA_URI_PATTERN) is exactly what is read.
_DATA_URI = re.compile(DATA_URI_HEADER)


def decode_data_uri(url: str, param: str) -> bytes:
    match = _DATA_URI.match(url)
    if match is None or not match.group("b64"):
        raise PerceptError(ErrorCode.INVALID_IMAGE, "a data: URI image must be `data:image/<type>;base64,<data>`",
                           details={"param": param})
    media_type = (match.group("type") or "").lower()
    if media_type and not media_type.startswith("image/"):
        raise PerceptError(ErrorCode.INVALID_IMAGE, f"a data: URI of type {media_type} is not an image",
                           details={"param": param})
    data = decode_base64(url[match.end():])
    if data is None:
        raise PerceptError(ErrorCode.INVALID_IMAGE, "the data: URI is not valid base64", details={"param": param})
    return data


class ImageFetcher:
    """Resolves an `image_url` to image bytes (not yet checked as an image)."""

    def __init__(self, allowlist: tuple[str, ...], *, timeout_s: float, max_bytes: int) -> None:
        self.allowlist = allowlist
        self.max_bytes = max_bytes
        # No proxies or netrc from the environment: what is fetched is exactly the allowed origin.
        self._http = httpx.AsyncClient(timeout=timeout_s, follow_redirects=False, trust_env=False)

    async def close(self) -> None:
        await self._http.aclose()

    async def image(self, url: str, param: str) -> bytes:
        if url[:5].lower() == "data:":
            return decode_data_uri(url, param)
        if not allowed(url, self.allowlist):
            hint = "" if self.allowlist else " (none is allowed here: send the image as a data: URI)"
            raise PerceptError(ErrorCode.URL_NOT_ALLOWED, f"fetching images from this URL is not allowed{hint}",
                               details={"param": param})
        return await self._fetch(url, param)

    async def _fetch(self, url: str, param: str) -> bytes:
        def refuse(why: str, code: ErrorCode = ErrorCode.INVALID_IMAGE) -> PerceptError:
            return PerceptError(code, f"the image at the URL {why}", details={"param": param})

        try:
            async with self._http.stream("GET", url) as response:
                if response.status_code != 200:
                    raise refuse(f"could not be fetched (HTTP {response.status_code})")
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self.max_bytes:
                    raise refuse(f"is {declared} bytes; the limit is {self.max_bytes}", ErrorCode.PAYLOAD_TOO_LARGE)
                chunks, size = [], 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise refuse(f"exceeds the limit of {self.max_bytes} bytes", ErrorCode.PAYLOAD_TOO_LARGE)
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.TimeoutException:
            raise refuse("did not arrive in time") from None
        except httpx.HTTPError as exc:
            raise refuse(f"could not be fetched ({type(exc).__name__})") from None

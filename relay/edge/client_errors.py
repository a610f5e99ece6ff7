"""Malformed HTTP from a client is the client's fault: one info line, no traceback.

aiohttp's server logs a request it cannot parse (smuggling attempts, bad chunk sizes,
duplicate Content-Length) at error level with a full traceback, so anyone could trip
an "error" alert and flood the log. It still answers 400 itself; this filter only
rewrites the log record.
"""

from __future__ import annotations

import logging

from aiohttp.http_exceptions import HttpProcessingError


class ClientErrorsAtInfo(logging.Filter):
    """Turn aiohttp's error record for a client's malformed request into one info line."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError) and (exc.code or 400) < 500:
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.msg = f"{record.getMessage()}: {exc.__class__.__name__} {exc.code}"
            record.args, record.exc_info, record.exc_text = None, None, None
        return True


def install() -> None:
    logger = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, ClientErrorsAtInfo) for f in logger.filters):
        logger.addFilter(ClientErrorsAtInfo())

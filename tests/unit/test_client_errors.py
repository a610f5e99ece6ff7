"""A client's malformed request is logged as one info line, never an error traceback."""

from __future__ import annotations

import logging

from aiohttp.http_exceptions import BadHttpMessage

from relay.edge.client_errors import ClientErrorsAtInfo


def _record(exc: BaseException) -> logging.LogRecord:
    return logging.LogRecord(
        "aiohttp.server",
        logging.ERROR,
        __file__,
        1,
        "Error handling request from %s",
        ("127.0.0.1",),
        (type(exc), exc, None),
    )


def test_malformed_request_record_becomes_one_info_line() -> None:
    """Duplicate Content-Length and friends: INFO, no exc_info, the reason kept."""
    record = _record(BadHttpMessage("Duplicate Content-Length"))
    assert ClientErrorsAtInfo().filter(record)
    assert (record.levelno, record.exc_info) == (logging.INFO, None)
    assert record.getMessage() == "Error handling request from 127.0.0.1: BadHttpMessage 400"


def test_a_relay_bug_keeps_its_error_and_traceback() -> None:
    """Anything that is not the client's malformed HTTP stays at error level."""
    record = _record(RuntimeError("bug"))
    assert ClientErrorsAtInfo().filter(record)
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None

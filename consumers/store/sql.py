"""SQL shared by both stores, written with `?` placeholders (PostgreSQL numbers them).

Monotonic rules live in the upserts' WHERE clauses, so concurrent workers cannot race.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import orjson

from consumers.model import BatchReport, Effect, InboundMessage, RecipientReport, StatusCount

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS processed (
        consumer TEXT NOT NULL, dedup_key TEXT NOT NULL, processed_at_us BIGINT NOT NULL,
        PRIMARY KEY (consumer, dedup_key))""",
    """CREATE TABLE IF NOT EXISTS recipient_status (
        batch_id TEXT NOT NULL, recipient TEXT NOT NULL, status TEXT NOT NULL,
        code TEXT NOT NULL, is_final INTEGER NOT NULL, at TEXT NOT NULL, at_us BIGINT NOT NULL,
        type TEXT NOT NULL, client_reference TEXT, PRIMARY KEY (batch_id, recipient))""",
    """CREATE TABLE IF NOT EXISTS batch_report (
        batch_id TEXT PRIMARY KEY, type TEXT NOT NULL, total_message_count BIGINT NOT NULL,
        final_count BIGINT NOT NULL, counts TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS inbound_message (
        id TEXT PRIMARY KEY, type TEXT NOT NULL, sender TEXT NOT NULL, recipient TEXT NOT NULL,
        body TEXT NOT NULL, udh TEXT, received_at TEXT NOT NULL,
        received_at_us BIGINT NOT NULL, payload TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS opt_out (
        sender TEXT NOT NULL, our_number TEXT NOT NULL, opted_out INTEGER NOT NULL,
        keyword TEXT NOT NULL, changed_at TEXT NOT NULL, changed_at_us BIGINT NOT NULL,
        message_id TEXT NOT NULL, PRIMARY KEY (sender, our_number))""",
]

MARK_PROCESSED = (
    "INSERT INTO processed (consumer, dedup_key, processed_at_us) VALUES (?, ?, ?) "
    "ON CONFLICT DO NOTHING"
)

UPSERT_STATUS = """INSERT INTO recipient_status
    (batch_id, recipient, status, code, is_final, at, at_us, type, client_reference)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (batch_id, recipient) DO UPDATE SET status = excluded.status,
      code = excluded.code, is_final = excluded.is_final, at = excluded.at,
      at_us = excluded.at_us, type = excluded.type, client_reference = excluded.client_reference
    WHERE excluded.is_final > recipient_status.is_final
       OR (excluded.is_final = recipient_status.is_final
           AND excluded.at_us > recipient_status.at_us)"""

UPSERT_BATCH = """INSERT INTO batch_report
    (batch_id, type, total_message_count, final_count, counts) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (batch_id) DO UPDATE SET type = excluded.type,
      total_message_count = excluded.total_message_count,
      final_count = excluded.final_count, counts = excluded.counts
    WHERE excluded.final_count >= batch_report.final_count"""

INSERT_INBOUND = """INSERT INTO inbound_message
    (id, type, sender, recipient, body, udh, received_at, received_at_us, payload)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING"""

UPSERT_OPT = """INSERT INTO opt_out
    (sender, our_number, opted_out, keyword, changed_at, changed_at_us, message_id)
    VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (sender, our_number) DO UPDATE SET opted_out = excluded.opted_out,
      keyword = excluded.keyword, changed_at = excluded.changed_at,
      changed_at_us = excluded.changed_at_us, message_id = excluded.message_id
    WHERE excluded.changed_at_us > opt_out.changed_at_us"""

SELECT_STATUSES = """SELECT batch_id, recipient, status, code, at, at_us, type, client_reference
    FROM recipient_status WHERE batch_id = ? ORDER BY recipient"""
SELECT_BATCH = """SELECT batch_id, type, total_message_count, counts
    FROM batch_report WHERE batch_id = ?"""
SELECT_INBOUND = """SELECT id, type, sender, recipient, body, udh, received_at, received_at_us,
    payload FROM inbound_message WHERE id = ?"""
SELECT_OPT_OUTS = """SELECT sender, our_number, keyword, changed_at FROM opt_out
    WHERE opted_out = 1 AND (? = '' OR our_number = ?) ORDER BY our_number, sender"""
SELECT_OPTED_OUT = "SELECT opted_out FROM opt_out WHERE sender = ? AND our_number = ?"
SELECT_OPT_STATE = """SELECT opted_out, keyword, message_id FROM opt_out
    WHERE sender = ? AND our_number = ?"""


def numbered(sql: str) -> str:
    """`?` placeholders to PostgreSQL's `$1, $2, ...`."""
    counter = itertools.count(1)
    return re.sub(r"\?", lambda _: f"${next(counter)}", sql)


def statements(effect: Effect) -> list[tuple[str, tuple[Any, ...]]]:
    """The (sql, parameters) pairs that apply one effect."""
    if isinstance(effect, RecipientReport):
        return [(UPSERT_STATUS, _status_row(effect))]
    if isinstance(effect, BatchReport):
        return [(UPSERT_BATCH, _batch_row(effect))]
    return _inbound_rows(effect)


def _status_row(r: RecipientReport) -> tuple[Any, ...]:
    return (r.batch_id, r.recipient, r.status, r.code, int(r.is_final), r.at, r.at_us, r.type,
            r.client_reference)  # fmt: skip


def _batch_row(b: BatchReport) -> tuple[Any, ...]:
    counts = orjson.dumps([[c.status, c.code, c.count] for c in b.counts]).decode()
    return (b.batch_id, b.type, b.total_message_count, b.final_count, counts)


def _inbound_rows(m: InboundMessage) -> list[tuple[str, tuple[Any, ...]]]:
    rows: list[tuple[str, tuple[Any, ...]]] = [(INSERT_INBOUND, (
        m.id, m.type, m.sender, m.to, m.body, m.udh, m.received_at, m.received_at_us, m.payload,
    ))]  # fmt: skip
    if m.opt is not None:
        # The opt-out list is keyed by (their number, our number): `from`, `to` of the MO.
        rows.append((UPSERT_OPT, (m.sender, m.to, int(m.opt.opted_out), m.opt.keyword,
                                  m.received_at, m.received_at_us, m.id)))  # fmt: skip
    return rows


def status_from_row(row: tuple[Any, ...]) -> RecipientReport:
    batch_id, recipient, status, code, at, at_us, type_, reference = row
    return RecipientReport(batch_id, recipient, status, code, at, at_us, type_, reference)


def batch_from_row(row: tuple[Any, ...]) -> BatchReport:
    batch_id, type_, total, counts = row
    parsed = tuple(StatusCount(s, c, n) for s, c, n in orjson.loads(counts))
    return BatchReport(batch_id, type_, total, parsed)


def inbound_from_row(row: tuple[Any, ...]) -> InboundMessage:
    return InboundMessage(*row)

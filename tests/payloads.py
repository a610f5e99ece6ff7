"""Realistic Sinch callback bodies, one per known type, as the exact bytes Sinch sends."""

from __future__ import annotations

from typing import Final

SIGNED_EXAMPLE: Final = (
    b'{"at":"2025-01-13T09:22:40.914Z","batch_id":"01JHFFHQ0P99JPPNQPJDV7JTBP",'
    b'"client_reference":"a client reference","code":0,"operator_status_at":'
    b'"2025-01-13T09:22:00Z","recipient":"33662162466","status":"Delivered",'
    b'"type":"recipient_delivery_report_sms"}'
)

BODIES: Final[dict[str, bytes]] = {
    "delivery_report_sms": (
        b'{"type":"delivery_report_sms","batch_id":"01FC66621XXXXX119Z8PMV1QPQ",'
        b'"statuses":[{"code":0,"count":2,"recipients":["44231235674","44231235675"],'
        b'"status":"Delivered"}],"total_message_count":2,"client_reference":"ref-1"}'
    ),
    "delivery_report_mms": (
        b'{"type":"delivery_report_mms","batch_id":"01FC66621XXXXX119Z8PMV1QPR",'
        b'"statuses":[{"code":"401","count":1,"status":"Dispatched"}],"total_message_count":1}'
    ),
    "recipient_delivery_report_sms": SIGNED_EXAMPLE,
    "recipient_delivery_report_mms": (
        b'{"type":"recipient_delivery_report_mms","batch_id":"01FC66621XXXXX119Z8PMV1QPS",'
        b'"recipient":"+46701234567","code":400,"status":"Queued","at":"2025-01-13T09:22:40Z",'
        b'"applied_originator":"12345","encoding":"UNICODE","number_of_message_parts":1}'
    ),
    "mo_text": (
        b'{"type":"mo_text","id":"01FC66621VHDBN119Z8PMV1AHY","from":"46701234567",'
        b'"to":"12345","body":"STOP \xf0\x9f\x9b\x91 please",'
        b'"received_at":"2025-01-13T09:22:40.914Z",'
        b'"operator_id":"24001","sent_at":"2025-01-13T09:22:39Z"}'
    ),
    "mo_binary": (
        b'{"type":"mo_binary","id":"01FC66621VHDBN119Z8PMV1AHZ","from":"46701234567",'
        b'"to":"12345","body":"SGVsbG8gd29ybGQ=","udh":"06050423F423F4",'
        b'"received_at":"2025-01-13T09:22:40Z"}'
    ),
    "mo_media": (
        b'{"type":"mo_media","id":"01FC66621VHDBN119Z8PMV1AJ0","from":"46701234567",'
        b'"to":"12345","body":{"subject":"pic","message":"look","media":[{"url":'
        b'"https://example.com/a.jpg","content_type":"image/jpeg","status":"Uploaded","code":0}]},'
        b'"received_at":"2025-01-13T09:22:40Z"}'
    ),
}

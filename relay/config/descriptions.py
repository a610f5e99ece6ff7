"""What each setting does: one line per key, shown in docs/configuration.md.

A test fails when a setting has no line here or a line names no setting.
"""

from __future__ import annotations

from collections.abc import Mapping

DESCRIPTIONS: Mapping[str, str] = {
    "http.host": "Listen address.",
    "http.port": "Listen port.",
    "http.max_body_bytes": "Largest accepted body; larger gets 413.",
    "http.forward_headers": "Request headers copied into AMQP headers as `http-<name>` "
    "(never auth or signature headers).",
    "http.forward_signature": "Copy Sinch's `x-sinch-webhook-signature*` headers into AMQP "
    "headers under the same names, so consumers can re-verify the body.",
    "http.retry_after_seconds": "`Retry-After` on 503 and 429 answers.",
    "http.default_paths": "Serve the single-account paths `/sms`, `/sms/delivery-report`, "
    "`/sms/incoming`; false: only the `[accounts.<name>]` paths.",
    "amqp.url": "Broker URL (holds a password: set it by env var or secret, not in TOML).",
    "amqp.urls": "Several broker URLs (cluster nodes), tried in turn; overrides `url`.",
    "amqp.connection_name": "Connection name shown in the management UI.",
    "amqp.confirm_timeout": "Seconds to wait for a publisher confirm before answering 503.",
    "amqp.max_in_flight": "Publishes awaiting confirms; above it the relay answers 429.",
    "amqp.channels": "Confirm channels on the one connection, used round-robin.",
    "amqp.reconnect_interval": "First reconnect delay in seconds (doubles on each failure).",
    "amqp.max_reconnect_interval": "Upper bound of the doubling reconnect delay, in seconds.",
    "amqp.connect_timeout": "Seconds to wait for a broker connection.",
    "amqp.heartbeat": "AMQP heartbeat in seconds (0: off).",
    "amqp.pipeline": "How publishes reach the broker: `batched` (one write per tick) or `public`.",
    "topology.delivery_reports": "Topic exchange for delivery reports.",
    "topology.inbound": "Topic exchange for inbound messages (MO).",
    "topology.unrouted": "Fanout exchange and queue for callbacks no binding matched.",
    "topology.unrouted_queue_type": "Queue type of the unrouted queue.",
    "topology.archive": "Stream that keeps every accepted callback (with `archive.enabled`).",
    "topology.quarantine": "Durable queue holding callbacks edge security refused (with "
    "`quarantine.enabled`; no password or token in clear).",
    "topology.declare": "Declare the topology at start-up; false: only check it exists.",
    "logging.level": "Log level.",
    "logging.format": "`json`, `console`, or `auto` (console on a TTY, JSON otherwise).",
    "shutdown.grace": "Seconds of 503 and not-ready after SIGTERM before the listener closes.",
    "shutdown.timeout": "Bound on draining in-flight requests and confirms.",
    "security.hmac_routes": "Callback paths that require a Sinch HMAC signature.",
    "security.hmac_secrets": "HMAC secrets; several at once for rotation.",
    "security.hmac_secrets_file": "File with one HMAC secret per line, merged in.",
    "security.hmac_tolerance_seconds": "Accepted clock skew of the signature timestamp.",
    "security.hmac_stale": "A valid signature outside the window: relay it unrouted, or 401.",
    "security.replay_cache_size": "Signed callbacks remembered (each until its window ends) "
    "to refuse replays; when full, new ones get 429. Size it above peak rate x tolerance.",
    "security.stale_memory_seconds": "How long a stale signature, once quarantined, is "
    "answered 200 without being quarantined again (longer than Sinch's retries, "
    "docs/sinch.md section 2).",
    "security.replay_store": "`memory` (this process) or a `redis://` URL: one replay memory "
    "for every process and replica (docs/security.md, replay memory across replicas).",
    "security.replay_horizon_seconds": "With a shared store, how long a published signature "
    "is remembered (longer than Sinch's retries, docs/sinch.md section 2).",
    "security.basic_routes": "Callback paths that require Basic auth.",
    "security.basic_credentials": "Accepted `user:password` pairs.",
    "security.basic_credentials_file": "File with one `user:password` per line, merged in.",
    "security.oauth_routes": "Callback paths that require an OAuth 2.0 Bearer token.",
    "security.oauth_clients": "`client_id:client_secret` pairs allowed to fetch tokens.",
    "security.oauth_clients_file": "File with one `client_id:client_secret` per line.",
    "security.oauth_token_keys": "Token signing keys: the first signs, all verify.",
    "security.oauth_token_keys_file": "File with one token key per line, merged in.",
    "security.oauth_token_path": "Path of the token endpoint Sinch calls.",
    "security.oauth_token_ttl_seconds": "Lifetime of issued tokens.",
    "security.oauth_token_grace_seconds": "Tokens still accepted this long after expiry.",
    "security.oauth_token_failures_per_source": "Wrong client secrets one source address "
    "may send to the token endpoint per window; then 429 with `Retry-After`.",
    "security.oauth_token_failures_per_client": "Wrong secrets per client id per window "
    "(from all sources); then 429 with `Retry-After`.",
    "security.oauth_token_failure_window_seconds": "The failure window; no block lasts "
    "longer than one window.",
    "security.allow_cidrs": "Only these client networks may call (empty: all).",
    "security.trusted_proxies": "Proxies whose `X-Forwarded-For` is believed.",
    "security.max_body_bytes_delivery_reports": "Body limit on the delivery-report path "
    "(0: `http.max_body_bytes`).",
    "security.max_body_bytes_inbound": "Body limit on the inbound path (0: `http.max_body_bytes`).",
    "security.body_timeout_seconds": "Time allowed to receive a body (0: no limit); "
    "over it: 503 with `Retry-After`.",
    "security.max_held_body_bytes": "Total bytes of request bodies held at once (a chunked "
    "body counts as its route's limit); over it: 503 with `Retry-After`.",
    "security.large_body_bytes": "Bodies at least this large share the parsing budget below.",
    "security.large_body_parse_share": "Share of each second spent parsing large bodies "
    "(measured); over it: 503 with `Retry-After`, so large bodies cannot starve small "
    "callbacks of the event loop.",
    "security.idle_timeout_seconds": "Keep-alive idle timeout.",
    "security.max_header_count": "Most request headers accepted.",
    "security.max_header_bytes": "Longest request header accepted.",
    "security.max_request_line_bytes": "Longest request line accepted.",
    "security.tls_cert_file": "Serve HTTPS with this certificate (PEM).",
    "security.tls_key_file": "Private key of `tls_cert_file`.",
    "security.tls_client_ca_file": "CA that signs client certificates (mutual TLS).",
    "security.tls_client_cert": "Whether a client certificate is asked for.",
    "quarantine.enabled": "Keep callbacks edge security refused (still answered 401/403) for "
    "`relay quarantine redrive`; false: refuse and forget.",
    "quarantine.max_messages": "Callbacks the quarantine holds; beyond it the oldest is dropped.",
    "quarantine.max_bytes": "Body bytes the quarantine holds; beyond it the oldest is dropped.",
    "archive.enabled": "Also keep every accepted callback in the `topology.archive` stream, "
    "for `relay replay` (docs/recovery.md).",
    "archive.max_age": "Archive retention by age, in RabbitMQ syntax (`7D`, `36h`; "
    "units Y M D h m s).",
    "archive.max_bytes": "Archive retention by size in bytes (oldest segments dropped first).",
    "archive.segment_bytes": "Archive segment size: retention drops whole segments.",
    "sinch.api_url": "Sinch SMS REST API base URL of your region (`us`, `eu`, `au`, `br`, `ca`: "
    "`https://<region>.sms.api.sinch.com`), for `relay backfill`.",
    "sinch.service_plan_id": "Sinch service plan id, for `relay backfill`.",
    "sinch.api_token": "Sinch API token of the service plan (secret), sent as a Bearer token.",
    "accounts.<name>.hmac_routes": "The account's paths (`/sms/<name>`, "
    "`/sms/<name>/delivery-report`, `/sms/<name>/incoming`) that require its HMAC signature.",
    "accounts.<name>.hmac_secrets": "The account's own HMAC secrets (never another's).",
    "accounts.<name>.hmac_secrets_file": "File with one of the account's HMAC secrets per line.",
    "accounts.<name>.basic_routes": "The account's paths that require its Basic auth.",
    "accounts.<name>.basic_credentials": "The account's accepted `user:password` pairs.",
    "accounts.<name>.basic_credentials_file": "File with one of its `user:password` per line.",
    "accounts.<name>.allow_cidrs": "Client networks that may call the account's paths "
    "(empty: all; `security.allow_cidrs` does not apply to them).",
    "consumers.amqp_url": "Worker's broker URL (secret). Unset with `amqp_urls`: the relay's.",
    "consumers.amqp_urls": "Several broker URLs, tried in turn; overrides `amqp_url`.",
    "consumers.connection_name": "Connection name shown in the management UI.",
    "consumers.reconnect_interval": "Seconds before retrying the broker; at start-up it doubles "
    "on each failure.",
    "consumers.max_reconnect_interval": "Upper bound of the start-up retry delay, in seconds.",
    "consumers.queue": "The worker's own queue (`sinch.consumers.<kind>`).",
    "consumers.queue_type": "Queue type of the worker queue and its DLQ.",
    "consumers.binding_keys": "Routing keys bound (topic patterns allowed); default: every "
    "type of the channel.",
    "consumers.declare_exchange": "Declare the relay's exchange; false: only check it exists.",
    "consumers.prefetch": "Unacked messages per worker process.",
    "consumers.batch_size": "Messages per store transaction.",
    "consumers.batch_wait": "Seconds to wait to fill a batch.",
    "consumers.retry_delays": "Seconds; one retry queue per delay, used in order.",
    "consumers.max_attempts": "Attempts before a retried message goes to the DLQ.",
    "consumers.delivery_limit": "Quorum-queue delivery limit: a backstop against crash loops.",
    "consumers.shutdown_timeout": "Seconds SIGTERM waits for in-flight messages.",
    "consumers.settle_grace": "Pause between the last ack and closing (quorum queues settle "
    "acks asynchronously).",
    "consumers.store_url": "`sqlite:///relative.db`, `sqlite:////absolute.db` or "
    "`postgresql://user@host/db` (secret).",
    "consumers.sqlite_synchronous": "`FULL` (fsync per batch) or `NORMAL`.",
    "consumers.http_port": "Serve `/healthz` and `/metrics` on this port (0: off).",
    "consumers.http_host": "Listen address of `/healthz` and `/metrics`.",
    "consumers.log_level": "Log level.",
    "consumers.log_format": "`json`, `console`, or `auto` (console on a TTY, JSON otherwise).",
    "consumers.exchange": "Exchange to bind to; default: the relay's for the channel.",
    "consumers.unrouted_exchange": "The relay's unrouted exchange.",
}

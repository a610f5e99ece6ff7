"""Side-by-side throughput benchmark: broker ceiling, HTTP ceiling, relay, consumers.

Run `python -m bench --help`. Performance goals live here, never in timed test assertions.
"""

"""The pure callback path, no I/O: body -> Event -> Outgoing (validation, envelope, ids)."""

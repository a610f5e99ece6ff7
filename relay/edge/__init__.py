"""The HTTP edge, socket to answer: app, server, middleware, handlers, health, keys, auth."""

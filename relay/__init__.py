"""Sinch SMS webhook relay: Sinch callbacks in, confirmed RabbitMQ publishes out."""

__version__ = "0.1.0"

"""The broker client: the publisher, its publish pipelines and the AMQP wire framing."""

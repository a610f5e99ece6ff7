"""The workers' AMQP helpers: the envelope, their queues, retry rerouting and the DLQ."""

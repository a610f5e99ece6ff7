"""What downstream may rely on.

Routing table, required fields, message constants, AMQP header names, topology and
the AsyncAPI document. It imports nothing above itself; consumers import it.
"""

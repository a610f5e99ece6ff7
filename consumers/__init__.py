"""Sample consumer workers for the Sinch SMS relay: delivery reports and inbound messages."""

"""What the test suites share: the fake publisher, free ports, relay subprocesses."""

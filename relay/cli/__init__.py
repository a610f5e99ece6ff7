"""The `relay` command line: one module per subcommand; each parses, then delegates."""

"""The sample handlers: each turns one envelope into effects for the store."""

"""Where Wire users live: the `Backend` protocol and its implementations."""

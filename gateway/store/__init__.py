"""The gateway's own state: `Store` protocol and implementations."""

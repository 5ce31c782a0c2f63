"""The HTTP edge: base-path quirks, authentication, handlers, error rendering, health."""

"""Wire's rules between SCIM and the backend: validation, mapping, the user and token flows."""

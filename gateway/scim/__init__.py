"""Pure SCIM 2.0 (RFC 7643/7644): errors, filters, PATCH, schemas, projection. No I/O here."""

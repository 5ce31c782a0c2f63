"""scim-gateway: a SCIM 2.0 service provider in front of Wire's internal user API."""

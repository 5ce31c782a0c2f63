"""
End-to-end tests: real scim-gateway processes. A package, so that its conftest is imported as
`e2e.conftest` and does not replace `conftest` (tests/conftest.py) in sys.modules.
"""

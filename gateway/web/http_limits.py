"""The request head limits aiohttp's parser applies (gateway/web/connections.py), and the fast lane too."""

MAX_REQUEST_LINE = 8192  # 414 above; different from the field limit, so LineTooLong tells which
MAX_FIELD_SIZE = 8190  # one header line, 431 above
MAX_HEADERS = 100  # 431 above

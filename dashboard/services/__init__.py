"""The domain, by aggregate: each module owns its transactions, audit rows and announcements.

`threads/` and `users/` serve end users and staff alike (queries and commands); `messages`,
`receipts`, `typing`, `presence`, `moderation`, `reports`, `export`, `stats`, `uploads`,
`search/`; shared helpers `pagination` (Page, the cursor codec, LIKE patterns), `reasons`
(`clean_reason`), `audit` (writing and reading the log) and `errors`.

May import models, serializers, extensions and `dashboard.events` (the port through which it
announces changes); never views, the API, realtime or `flask.request` (tests/test_layers.py).
"""

"""The domain: each module owns its transactions, audit rows and broadcasts."""

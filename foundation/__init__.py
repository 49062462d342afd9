"""Coalition's foundation: building blocks every app uses and that import nothing of ours.

Keyed hashes and rate limits (ratelimit), mailbox normalization and digests (mailbox),
encryption at rest (crypto, fields), exports sealed to an organization's key (sealed), country
lists (countries), image uploads (uploads), the no-JavaScript form cost (nojs) and the shared
form-view flow (forms_flow). The import-linter contracts in pyproject.toml keep it at the bottom.
"""

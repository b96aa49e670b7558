"""The restore drill: scratch PostgreSQL, fetch, pg_restore, integrity verification."""

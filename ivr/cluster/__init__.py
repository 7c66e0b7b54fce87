"""Several IVR workers on one PostgreSQL and one Redis: local database/broker processes,
worker heartbeats and capacity, the cross-worker queue feed and handoff signals."""

"""The timeline: every event about a child, kept in Redis, and what it means (sleep,
feeds, moods over time, hazards, alerts, captions)."""

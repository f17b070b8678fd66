"""Persistence: SQLAlchemy 2 tables and repository functions over any DATABASE_URL."""

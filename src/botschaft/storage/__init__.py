"""Storage: SQLAlchemy 2 models, the database handle, migrations and repositories."""

"""Storage: peewee models, the database connection and its migrations."""

"""Database plumbing shared by the store and the embedded backend: connections and migrations."""

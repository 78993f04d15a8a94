//! Storage backends (object_store) and restic repositories (rustic_core) for Cairn.

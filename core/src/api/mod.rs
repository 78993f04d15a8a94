//! KubeStash-compatible API types (storage, core, addons, appcatalog groups).

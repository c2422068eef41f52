//! Patches: strategic merge (with Kubernetes' merge keys and strategies) and JSON 6902.

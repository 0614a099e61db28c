"""Manifests: load (YAML with positions), validate (JSON Schema + semantic checks), convert units."""

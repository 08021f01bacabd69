"""stable: the asset-anchored stable token (genesis accounting now; the vault comes later)."""

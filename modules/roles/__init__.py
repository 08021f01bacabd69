"""roles: the registry of privileged roles, seeded from genesis, changed by governance."""

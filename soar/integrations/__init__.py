"""What the core knows of integrations: their settings, their errors and the registry of
configured ones. The implementations live in the top-level `integrations/` package."""

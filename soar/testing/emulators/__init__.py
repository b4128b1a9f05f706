"""Local emulators of the vendor APIs the integrations call, for tests and playbook
authors: each serves the vendor's documented contract over real HTTP on loopback."""

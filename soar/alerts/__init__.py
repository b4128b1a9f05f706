"""The normalised alert: what every SIEM payload becomes."""

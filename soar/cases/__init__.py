"""Cases: the unit of work of the SOC, with their lifecycle and timeline."""

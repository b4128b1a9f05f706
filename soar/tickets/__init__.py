"""Tickets: a case's ticket in Jira, ServiceNow or TheHive, opened once per case and
commented when the case closes — plain models, the protocol ticketing integrations
implement, and the activities the case workflow calls by name."""

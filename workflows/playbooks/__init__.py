"""The built-in playbooks. Every module here is discovered by
:func:`workflows.sdk.discover_playbooks`; installed packages add theirs through the
`soar.playbooks` entry point group."""

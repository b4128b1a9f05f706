"""The Slack bot: case and approval messages, Approve/Deny, notes, escalations, `/soar`.

`bot.app` builds the slack-bolt app (HTTP at `/slack/events`, or Socket Mode),
`bot.activities` holds the Slack activities the workflows call, and `soar.chatops.models` what
they take — the one module of this package workflow code may import.
"""

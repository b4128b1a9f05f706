"""The Slack bot: case and approval messages, Approve/Deny, notes, escalations, `/soar`.

`bot.app` builds the slack-bolt app (HTTP at `/slack/events`, or Socket Mode);
`bot.channel` is Slack as a notification channel — what the workflows' `notify.*`
activities (soar.notifications) become in Slack; `bot.settings` reads the `[slack]`
table and `bot.message_store` owns the `slack_messages` table. Workflow code never
imports this package.
"""

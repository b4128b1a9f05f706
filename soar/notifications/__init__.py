"""What the workflows ask the chat bot to show: case messages, thread replies, approval
messages, escalation and person notices — plain models and activity names, so workflow
code depends on them without importing the bot."""

"""Rasa input channels of the assistant: Telegram and Slack connectors hardened for a patient service.

Rasa loads them by class path from the credentials file that ``tools.launch`` writes
(see ``channels.settings``): ``channels.telegram.TelegramInput`` and ``channels.slack.SlackInput``.
"""

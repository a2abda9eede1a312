"""Rasa input channels of the assistant, each behind the input guard (channels/guard.py).

Rasa loads them by class path from the credentials file that ``tools.launch`` writes
(see ``channels.settings``): ``channels.rest.RestInput``, ``channels.socketio.SocketIOInput``,
``channels.telegram.TelegramInput`` and ``channels.slack.SlackInput``.
"""

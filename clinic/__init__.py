"""The clinic's own settings that more than one service reads (Rasa, actions, web app).

Neutral: imports no other package of the project, so every service can use it and
each default is written once.
"""

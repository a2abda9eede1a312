"""What the action server and the staff console share about stored data.

Neutral: imports neither ``actions`` nor ``webapp`` (nor Rasa), so both can use it.
"""

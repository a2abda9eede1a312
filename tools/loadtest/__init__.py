"""``make bench``'s load test: patients holding multi-turn conversations through the REST
channel, driven by Locust, against the scaled stack and, in the same run, stock Rasa.

- conversations.py: what the simulated patients say (the readable blind sets' conversations)
- locustfile.py:    the Locust user (one conversation per task; some start with a burst)
- integrity.py:     every acknowledged message exactly once, in order, in the tracker store
- stock.py:         the configuration ``rasa init`` writes, trained on our data
- run.py:           starts each stack, runs Locust, measures memory and readiness, reports
"""

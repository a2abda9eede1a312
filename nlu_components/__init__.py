"""Custom NLU components: the spaCy pipeline builder, the guide's entity layer and
the red-flag matcher. Rasa loads them by module path from config.yml."""

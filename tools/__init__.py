"""Developer tools for the calcified-lesions assistant (not loaded by Rasa)."""

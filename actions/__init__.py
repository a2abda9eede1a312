"""Custom actions of the patient assistant (rasa-sdk); one module per concern."""

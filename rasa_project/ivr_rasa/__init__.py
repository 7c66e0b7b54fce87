"""Glue that keeps the Rasa processes talking only to the IVR (loaded inside the Rasa venv)."""

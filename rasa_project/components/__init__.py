"""Custom Rasa graph components of this project (imported by `rasa` from this directory)."""

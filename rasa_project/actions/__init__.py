"""Custom actions for the wallet callback bot (rasa-sdk 3.6.2)."""

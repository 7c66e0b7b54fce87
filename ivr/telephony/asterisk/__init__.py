"""The Asterisk provider: AudioSocket (TCP) for call audio, ARI (REST + WebSocket events) for
call control. Only documented interfaces of Asterisk 20+ are used."""

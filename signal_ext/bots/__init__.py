"""Telegram bots: the bots directory, their texts, and the bots that run in the service."""

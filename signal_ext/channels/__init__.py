"""Delivery channels: one module each behind the small protocol in :mod:`signal_ext.channels.base`."""

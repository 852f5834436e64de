"""Webhooks: other programs told, with a signed JSON message, when a lead is created or
changes stage or status."""

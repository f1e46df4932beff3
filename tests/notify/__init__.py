"""E-mail notifications: settings, the outbox, sending against a real SMTP server."""

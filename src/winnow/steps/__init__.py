"""Streaming steps by topic. Every module here registers its steps with ``@register``."""

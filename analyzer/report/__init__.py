"""Renderers of findings: text, JSON, HTML. No analysis in here."""

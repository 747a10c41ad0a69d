"""The FAQ bot: knowledge base, matcher, conversation flows and handover to people."""

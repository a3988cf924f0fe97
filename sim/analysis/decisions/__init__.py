"""Decisions: what it takes (least money), returns per 亿元, scenario discovery (PRIM)."""

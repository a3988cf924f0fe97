"""Documents: the generated blocks of the Markdown documents and the meeting briefing."""

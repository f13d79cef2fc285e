"""Words in every language: interface catalogs, spoken forms and narration scripts, readability, facts, scripts, and the lint."""

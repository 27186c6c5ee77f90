"""storybot's Discord-free core: settings, text pipeline, store, search, excerpts, paging, CLI."""

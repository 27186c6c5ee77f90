"""Search: quote search finds a line a reader half-remembers (quote.py), scene search a
passage described in the reader's own words (scene.py). What they share: the vocabularies
kept in memory (vocabulary.py), snippet windows (snippets.py) and hit building (hits.py)."""

from bot.search.quote import QuoteSearch, tokens
from bot.search.scene import SceneSearch, query_words

__all__ = ["QuoteSearch", "SceneSearch", "query_words", "tokens"]

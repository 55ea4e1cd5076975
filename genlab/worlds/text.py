"""The genlab story world: its specification (what is true, what was planted) and its corpus."""

from genlab.worlds.text_corpus import Corpus, Document, generate_corpus, small_world
from genlab.worlds.text_spec import (
    Association,
    Canary,
    Fact,
    Person,
    Place,
    World,
    WorldConfig,
    build_world,
    load_world,
)

__all__ = [
    "Association", "Canary", "Corpus", "Document", "Fact", "Person", "Place", "World", "WorldConfig",
    "build_world", "generate_corpus", "load_world", "small_world",
]

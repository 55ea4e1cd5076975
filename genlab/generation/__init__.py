"""Generation: batched, seeded decoding of many prompts with many decoding configurations, one greedy decoder,
and contrastive search.
"""

from genlab.generation.decoder import PRESETS, DecodingConfig, generate, generate_ids, greedy, preset

__all__ = ["PRESETS", "DecodingConfig", "generate", "generate_ids", "greedy", "preset"]

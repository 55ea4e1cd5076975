"""Studies: what a notebook runs in one call (decoding, fine-tuning comparisons, world validity, the default
model's build and measurement). The top layer: studies may import every other subpackage; nothing imports them.
"""

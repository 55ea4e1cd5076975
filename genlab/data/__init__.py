"""Data: the planted-truth story world and its corpus, the tokenizer, readers for your own texts, augmentation and
perturbation.

The world lives in ``genlab.data.world`` (the public names) and the ``world_*`` modules behind it.
"""

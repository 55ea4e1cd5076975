"""Studies: what a notebook runs in one call (decoding, fine-tuning comparisons and their replicated runs, world
validity, the default model's build and measurement, the bias control model, the extraction attack's reference
model and its full-size run, and the bias and privacy mitigation studies). The top layer: studies may import every
other subpackage; nothing imports them.
"""

"""Recipes: how each model genlab ships under ``data/models/`` is built, checked, loaded and described, one module
per model, all on one pattern (:class:`genlab.recipes.base.ShippedModel`): ``python -m genlab.recipes.<recipe> build``
and ``check``.

====================  ===========================  =============================================================
recipe                model                        what it is for
====================  ===========================  =============================================================
``default_model``     ``genlab-tiny-world``        the embedded default language model of the text world
``bias_controls``     ``genlab-control-world``     the same recipe with every association at 0.5 (probe control)
``reference_model``   ``genlab-reference-small``   the extraction attack's reference; never saw a secret
``speech_model``      ``genlab-tiny-speech``       the spoken world's speech recogniser
``drawn_classifier``  ``genlab-drawn-classifier``  the evaluator of generated drawn-world pictures
``image_model``       ``genlab-tiny-diffusion``    the drawn world's text-to-image model
====================  ===========================  =============================================================

Recipes sit above the library: they use worlds, models, training and metrics; nothing in the library imports them.
"""

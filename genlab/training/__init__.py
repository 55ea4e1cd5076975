"""Training: pretraining from scratch, fine-tuning (full or with peft adapters), adversarial training, the
fine-tuning tasks, and a live loss plot. Everything runs on ``transformers.Trainer``, so ``accelerate launch`` and
``torchrun`` distribute it.
"""

"""The bottom layer: where genlab's files are, the offline switch and network guard, progress display settings.

Nothing here imports another genlab subpackage.
"""

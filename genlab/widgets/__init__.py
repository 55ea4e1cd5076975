"""Widgets: the interactive prompt explorer (ipywidgets, JupyterLab and Voilà), a thin view over plain functions."""

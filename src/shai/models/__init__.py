"""Models: the manifest, verified downloads from Hugging Face and mirrors, hosts kept in line.

The download itself is ``plugins/module_utils/download.py`` (shared with the ``model_file``
module); see docs/models.md.
"""

"""shai: the Python library and CLIs behind the vectorweight.shai Ansible collection."""

__version__ = "0.1.0"

"""Secrets lifecycle: catalog, vault, SealedSecrets sealing (crypto in module_utils/sealing.py)."""

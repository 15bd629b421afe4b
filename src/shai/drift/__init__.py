"""Drift detection: run the platform playbooks in check mode and report what would change."""

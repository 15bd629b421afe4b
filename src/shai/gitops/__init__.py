"""The GitOps tree: render it from the inventory, validate it, seed it into the ArgoCD repo.

The implementation lives in the collection's module_utils (``gitops``, ``gitops_seed``) so the
Ansible modules and this package share one code path; this package adds inventory loading,
the server-side dry-run and the ``shai gitops`` CLI.
"""

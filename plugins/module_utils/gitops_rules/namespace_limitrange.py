# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""namespace-limitrange: every declared namespace has a LimitRange (system namespaces excepted)."""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._base import NamespaceHas

RULE = NamespaceHas("namespace-limitrange", "LimitRange", "namespace has no LimitRange")

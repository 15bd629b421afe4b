# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""no-plaintext-secret: a Secret with data in the tree is a leak; secrets are SealedSecrets.

A Secret a chart renders is an error when one of its values comes from the Application's Helm
values (the tree carries the secret in plaintext); a chart-generated one is reported as an audit
finding (not in the tree, but generated anew by every render).
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import base64
import binascii

from ansible_collections.vectorweight.shai.plugins.module_utils.gitops_rules._base import Rule, helm_value_strings


def _decoded(doc):
    out = set()
    for key, value in (doc.get("data") or {}).items():
        try:
            out.add(base64.b64decode(str(value)).decode("utf-8"))
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
    out.update(str(v) for v in (doc.get("stringData") or {}).values())
    return set(v for v in out if len(v) >= 4)


class NoPlaintextSecret(Rule):
    id = "no-plaintext-secret"
    description = "no Secret with data or stringData in the tree (seal it)"

    def check(self, ctx):
        for obj in ctx.by_kind("Secret"):
            doc = obj.doc
            if not (doc.get("data") or doc.get("stringData")):
                continue
            field = "data" if doc.get("data") else "stringData"
            if not obj.rendered:
                yield obj.finding(
                    self.id, field, "plaintext Secret: seal it (gitops/secrets/<namespace>/<name>.sealedsecret.yaml)"
                )
                continue
            app = ctx.applications.get(obj.app)
            leaked = _decoded(doc) & helm_value_strings(app.doc) if app else set()
            if leaked:
                yield obj.finding(
                    self.id,
                    field,
                    "the chart renders a value of Application %s's Helm values into this Secret: "
                    "seal it and point the chart at the existing Secret" % obj.app,
                )
            else:
                yield obj.finding(
                    self.id, field, "chart-generated Secret (not in the tree; rendered anew on every sync)",
                    severity="audit",
                )


RULE = NoPlaintextSecret()

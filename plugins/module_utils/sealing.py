# -*- coding: utf-8 -*-
# Copyright: (c) 2026, vectorweight
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bitnami SealedSecrets-compatible sealing: the ONE implementation in shai.

Wire format (upstream ``pkg/crypto`` HybridEncrypt)::

    uint16_be(len(rsa_ct)) || RSA-OAEP(SHA-256, MGF1-SHA-256, label)(aes_key)
                           || AES-256-GCM(nonce = 12 zero bytes, no AAD)(plaintext) || tag

The label binds a ciphertext to its scope: ``namespace/name`` (strict), ``namespace``
(namespace-wide) or empty (cluster-wide).

Randomness is injectable (``rand``: a callable returning n bytes) so tests can reproduce
upstream ciphertexts byte for byte.  When ``rand`` is given the OAEP encoding is done here
over raw RSA (``pow(m, e, n)``); the production path uses ``cryptography``'s OAEP.  Both
produce the same bytes for the same seed (tested).

Also here: certificate loading/validation (refuses expired and non-RSA certificates like
kubeseal does), SealedSecret object building and unsealing, the controller-compatible key
pair generator, and the keyed digest that makes sealing idempotent (docs/adr/0200).

Imports of ``cryptography`` are guarded so ansible-test sanity can import this file
without it; callers check ``HAS_CRYPTOGRAPHY``.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import os
import re
import struct

from ansible_collections.vectorweight.shai.plugins.module_utils import secret_rules
from ansible_collections.vectorweight.shai.plugins.module_utils.errors import ShaiError

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.x509.oid import NameOID

    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError as _exc:  # pragma: no cover - exercised by ansible-test sanity only
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = _exc

API_VERSION = "bitnami.com/v1alpha1"
KIND = "SealedSecret"
SCOPES = ("strict", "namespace-wide", "cluster-wide")
ANNOTATION_NAMESPACE_WIDE = "sealedsecrets.bitnami.com/namespace-wide"
ANNOTATION_CLUSTER_WIDE = "sealedsecrets.bitnami.com/cluster-wide"
ANNOTATION_DIGEST = "shai.vectorweight.com/digest"
KEY_LABEL = "sealedsecrets.bitnami.com/sealed-secrets-key"
SESSION_KEY_BYTES = 32
DIGEST_VERSION = 1
# kubeseal's message for a failed unseal; the vectors expect this text.
DECRYPT_ERROR = "no key could decrypt secret"


class SealingError(ShaiError):
    """Any failure to seal, unseal, or load key material. The message is safe to show."""


class DecryptError(SealingError):
    """The ciphertext does not open with any of the given keys under the given label."""

    def __init__(self, message=DECRYPT_ERROR):
        super().__init__(message)


def _require_crypto():
    if not HAS_CRYPTOGRAPHY:
        raise SealingError("the python 'cryptography' library is required: %s" % CRYPTOGRAPHY_IMPORT_ERROR)


# ---------------------------------------------------------------------------------------
# scope and label
# ---------------------------------------------------------------------------------------


def encryption_label(namespace, name, scope="strict"):
    """Return the OAEP label for a scope, exactly as upstream ``EncryptionLabel``."""
    if scope == "strict":
        if not namespace or not name:
            raise SealingError("strict scope needs both a namespace and a name")
        return ("%s/%s" % (namespace, name)).encode("utf-8")
    if scope == "namespace-wide":
        if not namespace:
            raise SealingError("namespace-wide scope needs a namespace")
        return namespace.encode("utf-8")
    if scope == "cluster-wide":
        return b""
    raise SealingError("unknown scope %r (expected one of: %s)" % (scope, ", ".join(SCOPES)))


def scope_from_annotations(annotations):
    """Scope from SealedSecret annotations; cluster-wide wins over namespace-wide, neither = strict."""
    annotations = annotations or {}
    if str(annotations.get(ANNOTATION_CLUSTER_WIDE, "")).lower() == "true":
        return "cluster-wide"
    if str(annotations.get(ANNOTATION_NAMESPACE_WIDE, "")).lower() == "true":
        return "namespace-wide"
    return "strict"


def scope_annotations(scope):
    """The annotations kubeseal writes for a scope (none for strict)."""
    if scope == "cluster-wide":
        return {ANNOTATION_CLUSTER_WIDE: "true"}
    if scope == "namespace-wide":
        return {ANNOTATION_NAMESPACE_WIDE: "true"}
    if scope == "strict":
        return {}
    raise SealingError("unknown scope %r (expected one of: %s)" % (scope, ", ".join(SCOPES)))


# ---------------------------------------------------------------------------------------
# OAEP (RFC 8017 7.1.1) over raw RSA, for injected randomness
# ---------------------------------------------------------------------------------------


def _mgf1_sha256(seed, length):
    out = b""
    counter = 0
    while len(out) < length:
        out += hashlib.sha256(seed + struct.pack(">I", counter)).digest()
        counter += 1
    return out[:length]


def _xor(a, b):
    return bytes(x ^ y for x, y in zip(a, b))


def oaep_encrypt_raw(public_key, message, label, seed):
    """RSAES-OAEP-ENCRYPT with SHA-256/MGF1-SHA-256 and an explicit 32-byte seed.

    Byte-identical to Go's ``rsa.EncryptOAEP(sha256.New(), rnd, pub, msg, label)`` when
    ``rnd`` yields ``seed``.
    """
    numbers = public_key.public_numbers()
    k = (numbers.n.bit_length() + 7) // 8
    h_len = 32
    if len(seed) != h_len:
        raise SealingError("OAEP seed must be %d bytes" % h_len)
    if len(message) > k - 2 * h_len - 2:
        raise SealingError("message too long for RSA key")
    l_hash = hashlib.sha256(label).digest()
    ps = b"\x00" * (k - len(message) - 2 * h_len - 2)
    db = l_hash + ps + b"\x01" + message
    masked_db = _xor(db, _mgf1_sha256(seed, k - h_len - 1))
    masked_seed = _xor(seed, _mgf1_sha256(masked_db, h_len))
    em = b"\x00" + masked_seed + masked_db
    c = pow(int.from_bytes(em, "big"), numbers.e, numbers.n)
    return c.to_bytes(k, "big")


def _oaep_label(label):
    # cryptography treats an empty label as "no label", which is what Go does too.
    return padding.OAEP(
        mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=label or None
    )


# ---------------------------------------------------------------------------------------
# hybrid encryption
# ---------------------------------------------------------------------------------------


def hybrid_encrypt(public_key, plaintext, label, rand=None):
    """Seal ``plaintext`` (bytes) for ``label``; returns the raw ciphertext bytes.

    ``rand(n)`` (optional) supplies randomness in upstream order: the 32-byte AES key,
    then the 32-byte OAEP seed.  Without it, ``os.urandom`` and cryptography's OAEP.
    """
    _require_crypto()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise SealingError("expected an RSA public key")
    if rand is None:
        session_key = os.urandom(SESSION_KEY_BYTES)
        rsa_ct = public_key.encrypt(session_key, _oaep_label(label))
    else:
        session_key = rand(SESSION_KEY_BYTES)
        rsa_ct = oaep_encrypt_raw(public_key, session_key, label, rand(32))
    aes_ct = AESGCM(session_key).encrypt(b"\x00" * 12, plaintext, None)
    return struct.pack(">H", len(rsa_ct)) + rsa_ct + aes_ct


def hybrid_decrypt(private_keys, ciphertext, label):
    """Open a raw ciphertext with any of ``private_keys`` (one key or a list). Raises DecryptError."""
    _require_crypto()
    if not isinstance(private_keys, (list, tuple)):
        private_keys = [private_keys]
    if len(ciphertext) < 2:
        raise DecryptError()
    rsa_len = struct.unpack(">H", ciphertext[:2])[0]
    if len(ciphertext) < 2 + rsa_len + 16:
        raise DecryptError()
    rsa_ct = ciphertext[2 : 2 + rsa_len]
    aes_ct = ciphertext[2 + rsa_len :]
    for key in private_keys:
        try:
            session_key = key.decrypt(rsa_ct, _oaep_label(label))
            return AESGCM(session_key).decrypt(b"\x00" * 12, aes_ct, None)
        except Exception:  # wrong key, wrong label, tampered data: try the next key
            continue
    raise DecryptError()


def seal_value(public_key, value, namespace, name, scope="strict", rand=None):
    """Seal one value (str or bytes) and return the base64 text kubeseal --raw prints."""
    if isinstance(value, str):
        value = value.encode("utf-8")
    label = encryption_label(namespace, name, scope)
    return base64.b64encode(hybrid_encrypt(public_key, value, label, rand=rand)).decode("ascii")


def unseal_value(private_keys, b64_ciphertext, namespace, name, scope="strict"):
    """Open one base64 ciphertext; returns bytes."""
    try:
        raw = base64.b64decode(b64_ciphertext, validate=True)
    except Exception:
        raise DecryptError("ciphertext is not valid base64")
    return hybrid_decrypt(private_keys, raw, encryption_label(namespace, name, scope))


# ---------------------------------------------------------------------------------------
# certificates and keys
# ---------------------------------------------------------------------------------------


def _utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def _cert_time(cert, field):
    # cryptography >= 42 has ``<field>_utc``; Debian 12 ships 38, whose naive ``<field>`` is UTC
    value = getattr(cert, field + "_utc", None)
    return value if value is not None else getattr(cert, field).replace(tzinfo=datetime.timezone.utc)


def cert_not_after(cert):
    """``not_valid_after`` as an aware UTC datetime, on every cryptography release targets have."""
    return _cert_time(cert, "not_valid_after")


def cert_not_before(cert):
    """``not_valid_before`` as an aware UTC datetime (see :func:`cert_not_after`)."""
    return _cert_time(cert, "not_valid_before")


def load_certificate(pem, source="certificate", now=None):
    """Parse a PEM certificate and validate it the way kubeseal does.

    Returns the ``x509.Certificate``; raises SealingError naming ``source`` on an unparsable,
    expired, not-yet-valid or non-RSA certificate.
    """
    _require_crypto()
    if isinstance(pem, str):
        pem = pem.encode("utf-8")
    try:
        cert = x509.load_pem_x509_certificate(pem)
    except Exception as exc:
        raise SealingError("%s: not a PEM certificate (%s)" % (source, exc))
    now = now or _utcnow()
    not_after, not_before = cert_not_after(cert), cert_not_before(cert)
    if now > not_after:
        raise SealingError(
            "%s: failed to encrypt using an expired certificate on %s" % (source, not_after.strftime("%B %d, %Y"))
        )
    if now < not_before:
        raise SealingError("%s: certificate is not valid before %s" % (source, not_before.isoformat()))
    if not isinstance(cert.public_key(), rsa.RSAPublicKey):
        raise SealingError(
            "%s: expected RSA public key but found %s" % (source, type(cert.public_key()).__name__)
        )
    return cert


def cert_fingerprint(cert):
    """SHA-256 over the DER SubjectPublicKeyInfo, hex: identifies the sealing key."""
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(spki).hexdigest()


def load_private_key(pem, source="private key", password=None):
    """Parse a PEM RSA private key (PKCS#1 or PKCS#8)."""
    _require_crypto()
    if isinstance(pem, str):
        pem = pem.encode("utf-8")
    try:
        key = serialization.load_pem_private_key(pem, password=password)
    except Exception as exc:
        raise SealingError("%s: not a PEM private key (%s)" % (source, type(exc).__name__))
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SealingError("%s: expected an RSA private key" % source)
    return key


def generate_key_pair(bits=4096, common_name="sealed-secret", days=3650, now=None):
    """A key pair like the controller's: RSA, self-signed cert CN=O=sealed-secret, 10 years.

    Returns ``(key_pem, cert_pem)`` as text; the key is PKCS#1 ("RSA PRIVATE KEY") as the
    controller stores it in its kubernetes.io/tls Secret.
    """
    _require_crypto()
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    now = now or _utcnow()
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, common_name),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode("ascii")
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
    return key_pem, cert_pem


def key_matches_cert(key, cert):
    """True when the private key is the one behind the certificate."""
    return key.public_key().public_numbers() == cert.public_key().public_numbers()


# ---------------------------------------------------------------------------------------
# keyed digest (idempotence without decryption; docs/adr/0200)
# ---------------------------------------------------------------------------------------


def _hmac(digest_key, *parts):
    mac = hmac.new(digest_key, digestmod=hashlib.sha256)
    for part in parts:
        if isinstance(part, str):
            part = part.encode("utf-8")
        mac.update(struct.pack(">I", len(part)))
        mac.update(part)
    return mac.hexdigest()


def compute_digest(digest_key, cert, namespace, name, scope, data, template=None):
    """The ``shai.vectorweight.com/digest`` annotation value (JSON text).

    HMAC-SHA256 keyed by a secret that lives only in the vault (never derived from the
    public certificate), per key and over the template; bound to namespace/name/key so
    equal values in two places give unrelated digests.  Reveals nothing without the key.
    """
    if isinstance(digest_key, str):
        digest_key = digest_key.encode("utf-8")
    if not digest_key or len(digest_key) < 16:
        raise SealingError("digest key must be at least 16 bytes")
    where = "%s/%s" % (namespace, name)
    keys = {}
    for key in sorted(data):
        value = data[key]
        if isinstance(value, str):
            value = value.encode("utf-8")
        keys[key] = _hmac(digest_key, "key", where, key, value)
    meta = _hmac(digest_key, "meta", where, scope, json.dumps(template or {}, sort_keys=True))
    doc = {"v": DIGEST_VERSION, "cert": cert_fingerprint(cert)[:16], "meta": meta, "keys": keys}
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))


def parse_digest(text):
    """Parse a digest annotation; None when absent or unreadable."""
    if not text:
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    if not isinstance(doc, dict) or doc.get("v") != DIGEST_VERSION:
        return None
    return doc


# ---------------------------------------------------------------------------------------
# SealedSecret objects
# ---------------------------------------------------------------------------------------


def build_template(name, namespace, scope="strict", secret_type="Opaque", labels=None, annotations=None):
    """``spec.template`` like kubeseal writes it (metadata, type)."""
    meta = {"name": name, "namespace": namespace}
    if labels:
        meta["labels"] = dict(labels)
    ann = dict(annotations or {})
    ann.update(scope_annotations(scope))
    if ann:
        meta["annotations"] = ann
    return {"metadata": meta, "type": secret_type or "Opaque"}


def build_sealed_secret(
    public_key,
    name,
    namespace,
    data,
    scope="strict",
    secret_type="Opaque",
    labels=None,
    annotations=None,
    rand=None,
    reuse=None,
    extra_annotations=None,
    allow_empty=False,
):
    """Build a SealedSecret object (dict).

    ``data`` maps key -> plaintext (str or bytes).  ``reuse`` maps key -> existing base64
    ciphertext to keep verbatim (unchanged keys keep their bytes: minimal git diffs).
    """
    if scope not in SCOPES:
        raise SealingError("unknown scope %r (expected one of: %s)" % (scope, ", ".join(SCOPES)))
    if not name or not namespace:
        raise SealingError("a SealedSecret needs a name and a namespace")
    secret_rules.check_secret(name, namespace, data, labels, annotations, allow_empty=allow_empty)
    reuse = reuse or {}
    encrypted = {}
    for key in sorted(data):
        if key in reuse:
            encrypted[key] = reuse[key]
        else:
            encrypted[key] = seal_value(public_key, data[key], namespace, name, scope, rand=rand)
    meta = {"name": name, "namespace": namespace}
    ann = scope_annotations(scope)
    ann.update(extra_annotations or {})
    if ann:
        meta["annotations"] = ann
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": meta,
        "spec": {
            "encryptedData": encrypted,
            "template": build_template(name, namespace, scope, secret_type, labels, annotations),
        },
    }


def sealed_secret_scope(obj):
    return scope_from_annotations((obj.get("metadata") or {}).get("annotations"))


def validate_sealed_secret(obj, source="SealedSecret"):
    """Raise SealingError unless ``obj`` looks like a SealedSecret we can open."""
    if not isinstance(obj, dict):
        raise SealingError("%s: not a mapping" % source)
    if obj.get("kind") != KIND or obj.get("apiVersion") != API_VERSION:
        raise SealingError("%s: not a %s/%s" % (source, API_VERSION, KIND))
    meta = obj.get("metadata") or {}
    if not meta.get("name"):
        raise SealingError("%s: metadata.name is missing" % source)
    spec = obj.get("spec") or {}
    if not isinstance(spec.get("encryptedData") or {}, dict):
        raise SealingError("%s: spec.encryptedData must be a mapping" % source)


def unseal_sealed_secret(private_keys, obj, default_namespace=None):
    """Open every key of a SealedSecret object; returns {key: bytes}. Raises DecryptError."""
    validate_sealed_secret(obj)
    meta = obj["metadata"]
    namespace = meta.get("namespace") or default_namespace or ""
    name = meta["name"]
    scope = sealed_secret_scope(obj)
    label = encryption_label(namespace, name, scope) if scope != "cluster-wide" else b""
    out = {}
    for key, b64 in sorted(((obj.get("spec") or {}).get("encryptedData") or {}).items()):
        try:
            raw = base64.b64decode(b64, validate=True)
        except Exception:
            raise DecryptError("%s: key %r is not valid base64" % (name, key))
        try:
            out[key] = hybrid_decrypt(private_keys, raw, label)
        except DecryptError:
            raise DecryptError("%s/%s key %r: %s" % (namespace, name, key, DECRYPT_ERROR))
    return out


def secret_to_sealed_secret(public_key, secret, scope=None, rand=None, allow_empty=False):
    """Seal a core/v1 Secret manifest (dict) like ``kubeseal`` without ``--raw``.

    ``data`` values are base64 (decoded before sealing), ``stringData`` values are text.
    The scope comes from ``scope`` or from the Secret's scope annotations.
    """
    if not isinstance(secret, dict) or secret.get("kind") != "Secret":
        raise SealingError("input is not a kind: Secret manifest")
    meta = dict(secret.get("metadata") or {})
    name = meta.get("name")
    namespace = meta.get("namespace")
    annotations = dict(meta.get("annotations") or {})
    scope = scope or scope_from_annotations(annotations)
    for a in (ANNOTATION_NAMESPACE_WIDE, ANNOTATION_CLUSTER_WIDE):
        annotations.pop(a, None)
    data = {}
    for key, b64 in (secret.get("data") or {}).items():
        try:
            data[key] = base64.b64decode(b64 or "", validate=True)
        except Exception:
            raise SealingError("Secret data key %r is not valid base64" % key)
    for key, text in (secret.get("stringData") or {}).items():
        data[key] = str(text).encode("utf-8")
    return build_sealed_secret(
        public_key,
        name,
        namespace,
        data,
        scope=scope,
        secret_type=secret.get("type") or "Opaque",
        labels=meta.get("labels"),
        annotations=annotations,
        rand=rand,
        allow_empty=allow_empty,
    )


# ---------------------------------------------------------------------------------------
# idempotent reconcile (shared by the module and the CLI)
# ---------------------------------------------------------------------------------------


def reconcile_sealed_secret(
    cert,
    name,
    namespace,
    data,
    scope="strict",
    secret_type="Opaque",
    labels=None,
    annotations=None,
    existing=None,
    digest_key=None,
    private_keys=None,
    rand=None,
    allow_empty=False,
):
    """Decide what sealing ``data`` means given the ``existing`` SealedSecret (dict or None).

    A key counts as unchanged, and keeps its ciphertext verbatim, when the existing object
    was sealed for the same certificate and scope and either

    * ``digest_key`` is given and the key's HMAC in the digest annotation matches, or
    * ``private_keys`` is given and the existing ciphertext opens to the same plaintext
      with the key that belongs to ``cert``.

    Without either, every key is re-sealed (always changed).  Returns a dict:
    ``changed`` (bool), ``object`` (the desired SealedSecret), ``added``/``removed``/
    ``modified``/``unchanged`` (sorted key lists), ``metadata_changed`` (bool).
    """
    data = dict((k, v.encode("utf-8") if isinstance(v, str) else v) for k, v in data.items())
    secret_rules.check_secret(name, namespace, data, labels, annotations, allow_empty=allow_empty)
    template = build_template(name, namespace, scope, secret_type, labels, annotations)
    extra = {}
    new_digest = None
    if digest_key:
        extra[ANNOTATION_DIGEST] = compute_digest(digest_key, cert, namespace, name, scope, data, template)
        new_digest = parse_digest(extra[ANNOTATION_DIGEST])
    old_enc = {}
    unchanged = set()
    if isinstance(existing, dict):
        old_meta = existing.get("metadata") or {}
        old_enc = dict(((existing.get("spec") or {}).get("encryptedData") or {}))
        same_place = old_meta.get("name") == name and old_meta.get("namespace") == namespace
        if same_place and sealed_secret_scope(existing) == scope:
            old_ann = old_meta.get("annotations") or {}
            old_digest = parse_digest(old_ann.get(ANNOTATION_DIGEST))
            if new_digest is not None and old_digest is not None:
                if old_digest.get("cert") == new_digest["cert"]:
                    old_keys = old_digest.get("keys") or {}
                    unchanged = set(
                        k for k in data if k in old_enc and old_keys.get(k) == new_digest["keys"][k]
                    )
            elif private_keys:
                if not isinstance(private_keys, (list, tuple)):
                    private_keys = [private_keys]
                owner = [k for k in private_keys if key_matches_cert(k, cert)]
                if owner:
                    label = encryption_label(namespace, name, scope)
                    for k in data:
                        if k not in old_enc:
                            continue
                        try:
                            raw = base64.b64decode(old_enc[k], validate=True)
                            if hybrid_decrypt(owner, raw, label) == data[k]:
                                unchanged.add(k)
                        except Exception:
                            continue
    obj = build_sealed_secret(
        cert.public_key(),
        name,
        namespace,
        data,
        scope=scope,
        secret_type=secret_type,
        labels=labels,
        annotations=annotations,
        rand=rand,
        reuse=dict((k, old_enc[k]) for k in unchanged),
        extra_annotations=extra,
        allow_empty=allow_empty,
    )
    added = sorted(k for k in data if k not in old_enc)
    removed = sorted(k for k in old_enc if k not in data)
    modified = sorted(k for k in data if k in old_enc and k not in unchanged)
    metadata_changed = existing is None or (
        (existing.get("spec") or {}).get("template") != obj["spec"]["template"]
        or (existing.get("metadata") or {}) != obj["metadata"]
    )
    return {
        "changed": existing != obj,
        "object": obj,
        "added": added,
        "removed": removed,
        "modified": modified,
        "unchanged": sorted(unchanged),
        "metadata_changed": bool(metadata_changed),
    }


def redacted_view(obj, status=None):
    """A copy of a SealedSecret for diffs: ciphertexts replaced by a marker, never values."""
    if not obj:
        return {}
    view = json.loads(json.dumps(obj))
    enc = (view.get("spec") or {}).get("encryptedData") or {}
    for k in enc:
        enc[k] = "<sealed%s>" % ((", " + status[k]) if status and k in status else "")
    ann = (view.get("metadata") or {}).get("annotations") or {}
    if ANNOTATION_DIGEST in ann:
        ann[ANNOTATION_DIGEST] = "<digest>"
    return view


# Plain scalars that YAML 1.1 parsers (go-yaml, used by kubectl/kubeseal/ArgoCD) read as
# non-strings are quoted, so e.g. a Secret named "n" or a key "on" stays a string.
_YAML11_SPECIAL = frozenset("y yes n no on off true false null".split())
_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9._/+=-]*$")


def _scalar(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _YAML11_SPECIAL:
        return text
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid YAML double-quoted scalar


def _emit(obj, indent, lines):
    pad = "  " * indent
    for key, value in obj.items():
        if isinstance(value, dict) and value:
            lines.append("%s%s:" % (pad, _scalar(key)))
            _emit(value, indent + 1, lines)
        elif isinstance(value, dict):
            lines.append("%s%s: {}" % (pad, _scalar(key)))
        elif isinstance(value, list):
            lines.append("%s%s: %s" % (pad, _scalar(key), json.dumps(value, ensure_ascii=False)))
        else:
            lines.append("%s%s: %s" % (pad, _scalar(key), _scalar(value)))


def dump_yaml(obj):
    """Stable YAML text for a SealedSecret file (``---`` document, fixed key order).

    A small emitter for this one shape (nested mappings of strings): 20x faster than PyYAML
    and quoting every scalar that YAML 1.1 or 1.2 could read as anything but a string.
    """
    ordered = {}
    for k in ("apiVersion", "kind", "metadata", "spec"):
        if k in obj:
            ordered[k] = obj[k]
    for k, v in obj.items():
        ordered.setdefault(k, v)
    lines = ["---"]
    _emit(ordered, 0, lines)
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------
# the controller's key Secret (bootstrap / restore / backup)
# ---------------------------------------------------------------------------------------


def key_secret_manifest(name, key_pem, cert_pem, namespace="kube-system", active=True):
    """The kubernetes.io/tls Secret the sealed-secrets controller loads as a sealing key."""
    if isinstance(key_pem, bytes):
        key_pem = key_pem.decode("ascii")
    if isinstance(cert_pem, bytes):
        cert_pem = cert_pem.decode("ascii")
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {KEY_LABEL: "active" if active else "compromised"},
        },
        "data": {
            "tls.crt": base64.b64encode(cert_pem.encode("ascii")).decode("ascii"),
            "tls.key": base64.b64encode(key_pem.encode("ascii")).decode("ascii"),
        },
    }


def key_pair_from_secret(secret):
    """(name, key_pem, cert_pem) from a controller key Secret dict."""
    data = secret.get("data") or {}
    try:
        key_pem = base64.b64decode(data["tls.key"]).decode("ascii")
        cert_pem = base64.b64decode(data["tls.crt"]).decode("ascii")
    except (KeyError, ValueError):
        raise SealingError("Secret %s has no tls.key/tls.crt" % (secret.get("metadata") or {}).get("name"))
    return (secret.get("metadata") or {}).get("name"), key_pem, cert_pem

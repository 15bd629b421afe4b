"""The harness PKI (no binaries needed)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from shai.kube.pki import write_pki


def test_pki_chain_sans_and_modes(tmp_path: Path) -> None:
    pki = write_pki(tmp_path / "pki", sans=["10.213.0.5", "api.lab.test"])
    ca = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    srv = x509.load_pem_x509_certificate(pki.serving_cert.read_bytes())
    adm = x509.load_pem_x509_certificate(pki.admin_cert.read_bytes())
    for cert in (srv, adm):
        cert.verify_directly_issued_by(ca)
    san = srv.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("127.0.0.1") in san.get_values_for_type(x509.IPAddress)
    assert ipaddress.ip_address("10.213.0.5") in san.get_values_for_type(x509.IPAddress)
    dns = set(san.get_values_for_type(x509.DNSName))
    assert {"localhost", "kubernetes.default.svc", "api.lab.test"} <= dns
    orgs = [a.value for a in adm.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    assert orgs == ["system:masters"]
    eku = adm.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.CLIENT_AUTH in eku
    assert isinstance(srv.public_key(), ec.EllipticCurvePublicKey)
    for key in (pki.ca_key, pki.serving_key, pki.admin_key, pki.sa_key):
        assert key.stat().st_mode & 0o777 == 0o600
    assert pki.sa_pub.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")

"""module_utils/sealing runs on targets: Debian 12's python3-cryptography 38 has no
``not_valid_*_utc`` (added in 42), only the naive UTC ``not_valid_*``."""

from __future__ import annotations

import datetime as dt

from ansible_collections.vectorweight.shai.plugins.module_utils import sealing


class _Cryptography38Cert:
    """What cryptography 38 exposes: naive UTC datetimes, no *_utc properties."""

    def __init__(self, real: object) -> None:
        self.not_valid_after = real.not_valid_after_utc.replace(tzinfo=None)  # type: ignore[attr-defined]
        self.not_valid_before = real.not_valid_before_utc.replace(tzinfo=None)  # type: ignore[attr-defined]


def test_validity_helpers_work_without_the_utc_properties() -> None:
    _key_pem, cert_pem = sealing.generate_key_pair(bits=2048)
    cert = sealing.load_certificate(cert_pem)
    old = _Cryptography38Cert(cert)
    assert sealing.cert_not_after(old) == cert.not_valid_after_utc
    assert sealing.cert_not_before(old) == cert.not_valid_before_utc
    assert sealing.cert_not_after(old).tzinfo == dt.UTC
    assert sealing.cert_not_after(cert) == cert.not_valid_after_utc

"""Unit tests for the k3s filter plugin (plugins/filter/k3s.py)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.vectorweight.shai.plugins.filter import k3s

SUMS = """\
0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9  k3s
ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff  k3s-airgap-images-amd64.tar.zst
1111111111111111111111111111111111111111111111111111111111111111 *k3s-arm64
"""


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("v1.31.4+k3s1", (1, 31, 4, 1_000_000, 1)),
        ("v1.32.0-rc2+k3s1", (1, 32, 0, 2, 1)),
        (" v1.30.10+k3s12 ", (1, 30, 10, 1_000_000, 12)),
    ],
)
def test_parse_valid(version: str, expected: tuple[int, ...]) -> None:
    assert k3s.k3s_version_parse(version) == expected


@pytest.mark.parametrize("version", ["1.31.4+k3s1", "v1.31+k3s1", "v1.31.4", "latest", "v1.31.4+rke2r1", ""])
def test_parse_invalid_names_the_form(version: str) -> None:
    with pytest.raises(AnsibleFilterError, match=r"expected the form v1\.31\.4\+k3s1"):
        k3s.k3s_version_parse(version)


@pytest.mark.parametrize(
    ("left", "right", "result"),
    [
        ("v1.31.4+k3s1", "v1.31.4+k3s1", 0),
        ("v1.31.4+k3s1", "v1.31.4+k3s2", -1),
        ("v1.31.10+k3s1", "v1.31.9+k3s1", 1),
        ("v1.30.9+k3s1", "v1.31.0+k3s1", -1),
        ("v1.32.0-rc1+k3s1", "v1.32.0+k3s1", -1),
        ("v1.32.0-rc2+k3s1", "v1.32.0-rc1+k3s1", 1),
        ("v2.0.0+k3s1", "v1.99.99+k3s9", 1),
    ],
)
def test_compare(left: str, right: str, result: int) -> None:
    assert k3s.k3s_version_compare(left, right) == result


def test_version_from_output() -> None:
    out = "k3s version v1.31.4+k3s1 (a562d090)\ngo version go1.22.9\n"
    assert k3s.k3s_version_from_output(out) == "v1.31.4+k3s1"
    assert k3s.k3s_version_from_output("command not found") == ""


def test_sha256_from_sums() -> None:
    assert k3s.k3s_sha256_from_sums(SUMS, "k3s").startswith("0a1b2c3d")
    assert k3s.k3s_sha256_from_sums(SUMS, "k3s-arm64") == "1" * 64


def test_sha256_missing_file() -> None:
    with pytest.raises(AnsibleFilterError, match="'k3s-armhf' is not listed"):
        k3s.k3s_sha256_from_sums(SUMS, "k3s-armhf")


def test_sha256_malformed() -> None:
    with pytest.raises(AnsibleFilterError, match="malformed"):
        k3s.k3s_sha256_from_sums("nothex  k3s\n", "k3s")


def test_filter_map() -> None:
    names = set(k3s.FilterModule().filters())
    assert names == {
        "k3s_version_parse",
        "k3s_version_compare",
        "k3s_version_from_output",
        "k3s_sha256_from_sums",
    }

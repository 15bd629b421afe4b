"""The doctor's checks, in the order they run (offline ones first: they need nothing but files)."""

from __future__ import annotations

from shai.doctor.checks import (
    comfyui_pin,
    disk,
    dns,
    groups,
    k3s_pin,
    model_pins,
    ollama_pin,
    sealing_key,
    secrets,
    ssh,
    vault,
)
from shai.doctor.model import Check

CHECKS: tuple[Check, ...] = (
    vault.CHECK,
    sealing_key.CHECK,
    secrets.CHECK,
    model_pins.CHECK,
    comfyui_pin.CHECK,
    ollama_pin.CHECK,
    k3s_pin.CHECK,
    groups.CHECK,
    ssh.CHECK,
    dns.CHECK,
    disk.CHECK,
)

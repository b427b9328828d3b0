"""Rosters by NPI: the check digit catches a mistyped number before any chart is routed."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chartroute.config import ConfigError, load_config_text
from chartroute.config.models import npi_is_valid

ROOT = Path(__file__).resolve().parents[2]
GOOD = (ROOT / "config" / "practice.yaml").read_text()
PRAC = "    practitioner: Practitioner/prac-001"


def with_npi(npi: str, text: str = GOOD) -> str:
    """The example practice with ``npi`` given to its first clinician."""
    lines = text.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith(PRAC))
    return "".join([*lines[: at + 1], f'    npi: "{npi}"\n', *lines[at + 1 :]])


@pytest.mark.parametrize("npi", ["1234567893", "9999974493", "1245319599"])
def test_valid_npis(npi: str) -> None:
    assert npi_is_valid(npi)
    person = next(p for p in load_config_text(with_npi(npi)).roster if p.npi)
    assert person.npi == npi


@given(st.from_regex(r"[0-9]{9}", fullmatch=True), st.integers(1, 9))
def test_exactly_one_check_digit_is_right(body: str, shift: int) -> None:
    right = next(d for d in "0123456789" if npi_is_valid(body + d))
    wrong = str((int(right) + shift) % 10)
    assert not npi_is_valid(body + wrong)


@given(st.from_regex(r"[0-9]{10}", fullmatch=True))
def test_swapping_two_neighbouring_different_digits_is_caught(npi: str) -> None:
    for i in range(9):
        a, c = npi[i], npi[i + 1]
        if a == c or {a, c} == {"0", "9"} or not npi_is_valid(npi):
            continue
        assert not npi_is_valid(npi[:i] + c + a + npi[i + 2 :])


def test_a_wrong_check_digit_names_the_line_and_field() -> None:
    bad = with_npi("1234567890")
    with pytest.raises(ConfigError) as info:
        load_config_text(bad, "practice.yaml")
    (msg,) = [str(p) for p in info.value.problems]
    line = next(i for i, text in enumerate(bad.splitlines(), 1) if text.startswith("    npi:"))
    assert msg.startswith(f"practice.yaml:{line}: roster.0.npi:")
    assert "check digit" in msg


@pytest.mark.parametrize("npi", ["123456789", "12345678931", "12345 6789"])
def test_an_npi_is_ten_digits(npi: str) -> None:
    with pytest.raises(ConfigError):
        load_config_text(with_npi(npi), "practice.yaml")


def test_two_people_with_one_npi() -> None:
    text = with_npi("1234567893")
    other = "    practitioner: Practitioner/prac-002\n"
    text = text.replace(other, f'{other}    npi: "1234567893"\n', 1)
    with pytest.raises(ConfigError) as info:
        load_config_text(text, "practice.yaml")
    assert "is also" in str(info.value.problems[0])

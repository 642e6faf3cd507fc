"""Made-up but well-formed personal identifiers for demo data: names, mobile numbers, ID numbers.

Owns the rules that make a demo identity pass the checks intake applies to real ones: the
18-digit resident identity number of GB 11643-1999 (region code, birth date, sequence code
whose parity gives the sex, ISO 7064 MOD 11-2 check character) and the 11-digit mainland
mobile number. Everything draws from a caller-supplied `random.Random`, so a seed reproduces
the same people. None of these numbers belongs to anyone on purpose; never use them outside
demo and test data.
"""

from __future__ import annotations

import random
from datetime import date

from shared.demo.vocab import vocab

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("need exactly 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def is_valid_id_number(value: str) -> bool:
    """Shape, birth date and check character of an 18-character resident ID number."""
    if len(value) != 18 or not value[:17].isdigit():
        return False
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return value[17].upper() == id_check_char(value[:17])


def make_id_number(rng: random.Random, region_code: str, birth: date, male: bool) -> str:
    """An ID number for a person born on `birth` in `region_code` (six digits)."""
    if len(region_code) != 6 or not region_code.isdigit():
        raise ValueError("region_code must be six digits")
    sequence = rng.randrange(0, 100) * 10 + rng.choice((1, 3, 5, 7, 9) if male else (0, 2, 4, 6, 8))
    first17 = f"{region_code}{birth:%Y%m%d}{sequence:03d}"
    return first17 + id_check_char(first17)


def make_mobile(rng: random.Random) -> str:
    """An 11-digit mobile number with a real carrier prefix (1[3-9]x)."""
    prefix = rng.choice(vocab()["mobile_prefixes"])
    return prefix + f"{rng.randrange(0, 10**8):08d}"


def demo_phone_numbers(count: int, seed: int = 0) -> list[str]:
    """`count` distinct demo mobile numbers, the same list for the same seed."""
    rng = random.Random(seed)
    seen: dict[str, None] = {}
    while len(seen) < count:
        seen.setdefault(make_mobile(rng), None)
    return list(seen)


def make_name(rng: random.Random, male: bool) -> str:
    """A plausible Chinese name: a common surname and a one- or two-character given name."""
    words = vocab()
    surnames: list[str] = words["surnames"]
    top = int(words["surname_weights_top"])
    weights = [4 if i < top else 1 for i in range(len(surnames))]
    surname = rng.choices(surnames, weights=weights)[0]
    pool: list[str] = words["given_male" if male else "given_female"]
    if rng.random() < 0.3:
        return surname + rng.choice(pool)
    first, second = rng.sample(pool, 2)
    return surname + first + second


def random_birth(rng: random.Random, first_year: int, last_year: int) -> date:
    """A uniformly drawn date from 1 January `first_year` to 31 December `last_year`."""
    start = date(first_year, 1, 1).toordinal()
    end = date(last_year, 12, 31).toordinal()
    return date.fromordinal(rng.randint(start, end))

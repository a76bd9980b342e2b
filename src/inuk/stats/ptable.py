"""Perturbation tables of the cell key method: made from parameters, written and read as CSV.

A perturbation table maps a cell's true count (``pcv``, the perturbation cell
value) and its cell key (``ckey``, ``0 .. key_range - 1``) to the noise
(``pvalue``) added to the count. The layout is the common one of the ONS
``cell-key-perturbation`` package and of the tables statistical agencies
publish: a CSV with the columns ``pcv,ckey,pvalue``, one row per pair, so a
deployment can load Statistics Sweden's table, or any other, in place of ours.

Counts above the table's largest ``pcv`` use that largest row (the common
convention: past a few counts the noise no longer depends on the count). A
table whose large counts repeat in a cycle, such as ONS's 10-5 rounding table
(rows 501-750 repeat for every count above 750), is read with ``cycle=250``.

``generate()`` makes our own table from documented parameters:

- ``max_noise`` (D): no count moves by more than D;
- ``variance`` (V): the noise's variance, wherever the other rules allow it;
- ``smallest_shown`` (js): counts 1 .. js-1 are never published as themselves,
  and no count is published as 1 .. js-1: small counts go to 0 or to js and up;
- zero stays zero, and no count becomes negative.

For each true count ``i`` the published values allowed are ``0`` and ``js ..``
within ``i ± D``. Of all distributions over them with mean ``i`` (no bias) and
variance ``V`` we take the one of maximum entropy (the method of the ``ptable``
R package and of the cell key literature), which has the form
``p(j) ∝ exp(a·(j-i) + b·(j-i)²)``; ``a`` and ``b`` are found by Newton's method
on the convex dual. Where ``V`` cannot be had on those values (small counts,
whose values are few), the variance nearest to ``V`` is taken, which is a
two-point distribution. The probabilities are then turned into shares of the
``key_range`` cell keys (the keys for the lowest value first), rounded so that
the mean noise over the keys is exactly zero wherever the values allow it.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

#: The parameters our shipped table is made from (``inuk ptable generate`` without options).
DEFAULT_MAX_NOISE = 5
DEFAULT_VARIANCE = 3.0
DEFAULT_SMALLEST_SHOWN = 5
DEFAULT_KEY_RANGE = 256

#: The shipped table, package data made by ``generate()`` with the defaults above.
DEFAULT_TABLE = "ptable_default.csv"


class PerturbationTableError(ValueError):
    """A perturbation table that cannot be used, with what is wrong with it."""


@dataclass(frozen=True)
class PerturbationTable:
    """Noise by (true count, cell key); see the module's docstring.

    ``rows[pcv - 1][ckey]`` is the noise for count ``pcv`` and cell key ``ckey``.
    """

    rows: tuple[tuple[int, ...], ...]
    name: str = "custom"
    #: Counts above the largest pcv reuse the last ``cycle`` rows in turn; 0: the last row.
    cycle: int = 0
    #: The parameters the table was made from, when we made it.
    parameters: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if not self.rows:
            raise PerturbationTableError("the table has no rows")
        key_range = len(self.rows[0])
        if key_range < 1 or key_range & (key_range - 1) or key_range > 2**32:
            # Cell keys are sums modulo 2**32; reducing them to the table's range
            # equals the sum modulo that range only if the range divides 2**32.
            raise PerturbationTableError(
                f"the cell keys must run from 0 to a power of two less one, not to {key_range - 1}"
            )
        for pcv, row in enumerate(self.rows, start=1):
            if len(row) != key_range:
                raise PerturbationTableError(f"pcv {pcv} has {len(row)} cell keys, not {key_range}")
            if min(row) < -pcv:
                raise PerturbationTableError(f"pcv {pcv} would be published as a negative count")
        if not 0 <= self.cycle <= len(self.rows):
            raise PerturbationTableError(
                f"the cycle of {self.cycle} rows is longer than the table's {len(self.rows)}"
            )

    @property
    def key_range(self) -> int:
        return len(self.rows[0])

    @property
    def max_pcv(self) -> int:
        return len(self.rows)

    @property
    def max_noise(self) -> int:
        return max(abs(noise) for row in self.rows for noise in row)

    @property
    def smallest_shown(self) -> int:
        """The smallest count the table ever publishes, other than zero."""
        return min(pcv + noise for pcv, row in self._pcvs() for noise in row if pcv + noise > 0)

    def _pcvs(self) -> Iterable[tuple[int, tuple[int, ...]]]:
        return enumerate(self.rows, start=1)

    def pcv(self, count: int) -> int:
        """The row a true count is perturbed by."""
        if count <= self.max_pcv:
            return count
        if self.cycle:
            start = self.max_pcv - self.cycle + 1
            return start + (count - start) % self.cycle
        return self.max_pcv

    def noise(self, count: int, key: int) -> int:
        """The noise for a true count and a cell key (any size: it is reduced to the range)."""
        if count <= 0:
            return 0  # zero stays zero
        return self.rows[self.pcv(count) - 1][key % self.key_range]

    def perturb(self, count: int, key: int) -> int:
        return count + self.noise(count, key)

    def distribution(self, count: int) -> dict[int, float]:
        """The published values of a true count, with the share of cell keys giving each."""
        shares: dict[int, float] = {}
        for noise in self.rows[self.pcv(count) - 1]:
            value = count + noise
            shares[value] = shares.get(value, 0.0) + 1 / self.key_range
        return dict(sorted(shares.items()))

    # --- CSV ------------------------------------------------------------------------

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["pcv", "ckey", "pvalue"])
        for pcv, row in self._pcvs():
            writer.writerows((pcv, ckey, noise) for ckey, noise in enumerate(row))
        return out.getvalue()

    @classmethod
    def from_csv(cls, text: str, *, name: str = "custom", cycle: int = 0) -> PerturbationTable:
        """Read a table in the ``pcv,ckey,pvalue`` layout (other columns are ignored).

        Every pcv from 1 to the largest must have every cell key from 0 to the
        largest; a row for pcv 0 is accepted and ignored, since zero stays zero.
        """
        reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
        header = [name.strip().lower() for name in next(reader, [])]
        missing = {"pcv", "ckey", "pvalue"} - set(header)
        if missing:
            raise PerturbationTableError(
                "the header lacks the column(s) " + ", ".join(sorted(missing))
            )
        a, b, c = (header.index(name) for name in ("pcv", "ckey", "pvalue"))
        noise: dict[tuple[int, int], int] = {}
        for line, record in enumerate(reader, start=2):
            if not record:
                continue
            try:
                pcv, ckey, pvalue = _whole(record[a]), _whole(record[b]), _whole(record[c])
            except (IndexError, ValueError):
                raise PerturbationTableError(f"line {line} is not three whole numbers") from None
            if pcv < 0 or ckey < 0:
                raise PerturbationTableError(f"line {line}: pcv and ckey cannot be negative")
            if (pcv, ckey) in noise:
                raise PerturbationTableError(f"line {line} repeats pcv {pcv}, ckey {ckey}")
            noise[(pcv, ckey)] = pvalue
        pcvs = {pcv for pcv, _ in noise if pcv > 0}
        if not pcvs:
            raise PerturbationTableError("the table has no rows")
        max_pcv, key_range = max(pcvs), max(ckey for _, ckey in noise) + 1
        rows = []
        for pcv in range(1, max_pcv + 1):
            try:
                rows.append(tuple(noise[(pcv, ckey)] for ckey in range(key_range)))
            except KeyError:
                raise PerturbationTableError(
                    f"pcv {pcv} does not have every cell key from 0 to {key_range - 1}"
                ) from None
        return cls(tuple(rows), name=name, cycle=cycle)

    @classmethod
    def from_file(cls, path: str | Path, *, cycle: int = 0) -> PerturbationTable:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise PerturbationTableError(f"cannot read {path}: {exc.strerror}") from None
        return cls.from_csv(text, name=path.name, cycle=cycle)

    @classmethod
    def shipped(cls) -> PerturbationTable:
        """The table that comes with INUK, made by ``generate()`` with the default parameters."""
        text = resources.files("inuk.stats").joinpath("data", DEFAULT_TABLE).read_text("utf-8")
        table = cls.from_csv(text, name=DEFAULT_TABLE)
        return PerturbationTable(table.rows, name=DEFAULT_TABLE, parameters=default_parameters())


def _whole(text: str) -> int:
    """A whole number, also as R and pandas write them (``3.0``)."""
    try:
        return int(text)
    except ValueError:
        number = float(text)
        if not number.is_integer():
            raise
        return int(number)


def default_parameters() -> dict:
    return {
        "max_noise": DEFAULT_MAX_NOISE,
        "variance": DEFAULT_VARIANCE,
        "smallest_shown": DEFAULT_SMALLEST_SHOWN,
        "key_range": DEFAULT_KEY_RANGE,
    }


# --- the generator --------------------------------------------------------------------


def generate(
    max_noise: int = DEFAULT_MAX_NOISE,
    variance: float = DEFAULT_VARIANCE,
    smallest_shown: int = DEFAULT_SMALLEST_SHOWN,
    key_range: int = DEFAULT_KEY_RANGE,
) -> PerturbationTable:
    """A perturbation table from its parameters, as the module's docstring explains.

    Rows run from count 1 to ``smallest_shown + max_noise``, the first count whose
    published values are all of ``i ± D``: from there on every count has the
    same noise, so the last row serves all larger counts.

    >>> table = generate(max_noise=2, variance=1, smallest_shown=3, key_range=16)
    >>> table.distribution(1)
    {0: 0.6875, 3: 0.3125}
    """
    if max_noise < 1 or smallest_shown < 1 or variance <= 0:
        raise PerturbationTableError("max_noise, smallest_shown and variance must be positive")
    if max_noise < smallest_shown - 1:
        # A count of js - 1 may go neither to itself nor below zero: it must be
        # able to reach 0, or its noise cannot average out to nothing.
        raise PerturbationTableError(
            f"max_noise must be at least smallest_shown - 1 ({smallest_shown - 1})"
        )
    rows = []
    for count in range(1, smallest_shown + max_noise + 1):
        values = [
            v
            for v in range(count - max_noise, count + max_noise + 1)
            if v == 0 or v >= smallest_shown
        ]
        offsets = [v - count for v in values]
        probabilities = _max_entropy(offsets, variance)
        keys = _keys_for(offsets, probabilities, key_range)
        rows.append(tuple(d for d, n in zip(offsets, keys, strict=True) for _ in range(n)))
    return PerturbationTable(
        tuple(rows),
        name="generated",
        parameters={
            "max_noise": max_noise,
            "variance": variance,
            "smallest_shown": smallest_shown,
            "key_range": key_range,
        },
    )


def _max_entropy(offsets: list[int], variance: float) -> list[float]:
    """The maximum-entropy distribution over ``offsets`` with mean 0 and the variance nearest V."""
    below = [d for d in offsets if d < 0]
    above = [d for d in offsets if d > 0]
    if not below or not above:
        # Only the count itself can keep the mean: no noise.
        return [1.0 if d == 0 else 0.0 for d in offsets]
    widest = -min(below) * max(above)  # two points, at the ends
    narrowest = 0 if 0 in offsets else -max(below) * min(above)  # the nearest two
    if variance >= widest - 1e-9:
        return _two_points(offsets, min(below), max(above))
    if variance <= narrowest + 1e-9:
        if narrowest == 0:
            return [1.0 if d == 0 else 0.0 for d in offsets]
        return _two_points(offsets, max(below), min(above))
    # Newton's method on the dual: minimise log Z(a, b) - b·V, whose gradient is
    # (E[d], E[d²] - V) and whose Hessian is the covariance of (d, d²).
    a = b = 0.0
    for _ in range(200):
        p = _weights(offsets, a, b)
        m1 = sum(pi * d for pi, d in zip(p, offsets, strict=True))
        m2 = sum(pi * d * d for pi, d in zip(p, offsets, strict=True))
        m3 = sum(pi * d**3 for pi, d in zip(p, offsets, strict=True))
        m4 = sum(pi * d**4 for pi, d in zip(p, offsets, strict=True))
        g1, g2 = m1, m2 - variance
        if abs(g1) < 1e-12 and abs(g2) < 1e-12:
            break
        h11, h12, h22 = m2 - m1 * m1, m3 - m1 * m2, m4 - m2 * m2
        det = h11 * h22 - h12 * h12
        step_a = (h22 * g1 - h12 * g2) / det
        step_b = (h11 * g2 - h12 * g1) / det
        # Halve the step while it does not lower the dual (it is convex, so this ends).
        dual = _log_z(offsets, a, b) - b * variance
        t = 1.0
        while t > 1e-12:
            na, nb = a - t * step_a, b - t * step_b
            if _log_z(offsets, na, nb) - nb * variance <= dual:
                break
            t /= 2
        a, b = na, nb
    return _weights(offsets, a, b)


def _log_z(offsets: list[int], a: float, b: float) -> float:
    exponents = [a * d + b * d * d for d in offsets]
    top = max(exponents)
    return top + math.log(sum(math.exp(e - top) for e in exponents))


def _weights(offsets: list[int], a: float, b: float) -> list[float]:
    log_z = _log_z(offsets, a, b)
    return [math.exp(a * d + b * d * d - log_z) for d in offsets]


def _two_points(offsets: list[int], low: int, high: int) -> list[float]:
    """Mean zero on two offsets, one below and one above."""
    p_high = -low / (high - low)
    return [p_high if d == high else 1 - p_high if d == low else 0.0 for d in offsets]


def _keys_for(offsets: list[int], probabilities: list[float], key_range: int) -> list[int]:
    """How many of the cell keys go to each offset: near ``p · key_range``, summing to the range.

    Rounded by largest remainder, then moved one key at a time to bring the mean
    noise over the keys to exactly zero, each time by the move that strays least
    from the probabilities; then the variance is restored (``_restore_variance``).
    """
    ideal = [p * key_range for p in probabilities]
    keys = [math.floor(x) for x in ideal]
    order = sorted(range(len(ideal)), key=lambda j: keys[j] - ideal[j])
    for j in order[: key_range - sum(keys)]:
        keys[j] += 1
    for _ in range(key_range):
        total = sum(n * d for n, d in zip(keys, offsets, strict=True))
        if total == 0:
            break
        best: tuple[int, float, int, int] | None = None
        for src, n_src in enumerate(keys):
            if n_src == 0:
                continue
            for dst in range(len(keys)):
                moved = total + offsets[dst] - offsets[src]
                if dst == src or abs(moved) >= abs(total):
                    continue
                cost = (
                    (n_src - 1 - ideal[src]) ** 2
                    - (n_src - ideal[src]) ** 2
                    + (keys[dst] + 1 - ideal[dst]) ** 2
                    - (keys[dst] - ideal[dst]) ** 2
                )
                if best is None or (abs(moved), cost) < (best[0], best[1]):
                    best = (abs(moved), cost, src, dst)
        if best is None:
            break
        keys[best[2]] -= 1
        keys[best[3]] += 1
    _restore_variance(keys, offsets, ideal)
    return keys


def _restore_variance(keys: list[int], offsets: list[int], ideal: list[float]) -> None:
    """Bring the keys' variance back near the probabilities', keeping their mean.

    Rounding and the moves for the mean shift the variance a little, up to
    D²/range. Two keys at ``d`` spread to ``d - 1`` and ``d + 1`` (or the
    reverse) keep the mean and change the sum of squares by 2, so repeating the
    move that strays least from the probabilities closes the gap to within one.
    """
    target = sum(x * d * d for x, d in zip(ideal, offsets, strict=True))
    position = {d: j for j, d in enumerate(offsets)}
    middles = [j for j, d in enumerate(offsets) if d - 1 in position and d + 1 in position]

    def cost(changes: list[tuple[int, int]]) -> float:
        return sum((keys[j] + c - ideal[j]) ** 2 - (keys[j] - ideal[j]) ** 2 for j, c in changes)

    for _ in range(sum(keys)):
        gap = sum(n * d * d for n, d in zip(keys, offsets, strict=True)) - target
        if abs(gap) <= 1:
            return
        sign = -1 if gap > 0 else 1  # spread (+1) when too narrow, gather (-1) when too wide
        moves = []
        for j in middles:
            low, high = position[offsets[j] - 1], position[offsets[j] + 1]
            changes = [(j, -2 * sign), (low, sign), (high, sign)]
            if all(keys[k] + c >= 0 for k, c in changes):
                moves.append((cost(changes), changes))
        if not moves:
            return
        for k, c in min(moves)[1]:
            keys[k] += c

#!/usr/bin/env python3
"""Writes the cron cases that tapline's differential test checks against Quartz.

Hand-picked edge cases (L, W, LW, L-n, nth weekday, last weekday, leap years, year lists,
steps over ranges, wrap-around ranges, names) plus a seeded random sample of the grammar.
Each case is evaluated from several start instants. Output: EXPRESSION<TAB>START<TAB>COUNT lines.
"""
import random

HAND = [
    "0 0 12 ? * MON-FRI *", "0 0 12 ? * MON-FRI", "0 15 10 ? * *", "0 15 10 * * ?", "0 15 10 * * ? *",
    "0 15 10 * * ? 2025", "0 * 14 * * ?", "0 0/5 14 * * ?", "0 0/5 14,18 * * ?", "0 0-5 14 * * ?",
    "0 10,44 14 ? 3 WED", "0 15 10 ? * MON-FRI", "0 15 10 15 * ?", "0 15 10 L * ?", "0 15 10 L-2 * ?",
    "0 15 10 ? * 6L", "0 15 10 ? * 6L 2024-2026", "0 15 10 ? * 6#3", "0 0 12 1/5 * ?", "0 11 11 11 11 ?",
    "0 0 0 LW * ?", "0 0 0 L-3 * ?", "0 0 0 L-3W * ?", "0 0 0 1W * ?", "0 0 0 15W * ?", "0 0 0 31W * ?",
    "0 0 0 30W * ?", "0 0 0 28W * ?", "0 0 0 29 2 ?", "0 0 0 29 FEB ? 2024,2028", "0 0 0 ? * 5#3",
    "0 0 0 ? * THU#5", "0 0 0 ? * SUN#1", "0 0 0 ? * 1L", "0 0 0 ? * L", "0 0 0 ? * 7L", "0 0 0 ? * FRI-MON",
    "0 0 22-2 * * ?", "0 50-10 * * * ?", "0 0 0 ? NOV-FEB MON", "0 0 0 25-5 * ?", "*/15 * * * * ?",
    "0 */7 * * * ?", "0 5/15 * * * ?", "0 0 8-18/3 * * ?", "0 0 0 1-31/10 * ?", "0 0 0 ? * MON-FRI/2",
    "0 0 0 ? 1/4 *", "0 0 0 1 1 ? 2030/5", "0 0 0 1 1 ? 2199", "0 0 0 30 FEB ?", "0 0 0 31 4,6,9,11 ?",
    "0 0 0 31 * ?", "30 30 23 L 12 ? 2024", "0 0 0 ? * 2#1,3", "0 0 0 L,15 * ?", "0 0 0 ? * 6L,2",
    "* * * * * *", "* * * ? * ?", "0 0 24 * * ?", "60 * * * * ?", "0 0 0 32 * ?", "0 0 0 ? * 8",
    "0 0 0 ? 13 *", "0 0 0 0 * ?", "0 0 0 * * ? 1969", "0 0 0 L-31 * ?", "0 0 0 ? * 5#6", "0 0 0 ? * 5#0",
    "0 0 0 1 * ? * extra", "0 0 0 1 *", "0 0 0 1 JANUARY ?", "0 0 0 ? * MOO", "0 0/0 * * * ?",
    "0 0/60 * * * ?", "0 0 0 W * ?", "0 0 0 1-5W * ?", "0 0 0 L * ? 2024", "0 0 12 ? * SUN-SAT",
    "0 0 12 ? * sun-sat", "0 0 12 ? jan,jul mon", "0 0 0 ? * 3L 2024", "0 0 0 15W 2 ? 2025",
    "0 0 0 1W 3 ? 2025", "0 0 0 LW 8 ? 2025", "0 0 0 LW 11 ? 2026", "0 0 0 L-1W 2 ? 2025",
    "0 0 0 ? * 2#5", "59 59 23 31 12 ? *", "0 0 0 L 2 ? 2100", "0 0 0 29 2 ? 2100,2104",
    "0 0 0 28W 2 ?", "0 0 0 29W 2 ?", "0 0 0 30W 2 ?", "0 0 0 31W 2 ?", "0 0 0 29W * ?", "0 0 0 L-27 2 ?",
    "0 0 0 L-28W * ?", "0 0 0 L-10W * ?", "0 0 0 1W,15 * ?", "0 0 0 ? * MON-FRI/2", "0 0 0 1 JAN/3 ?",
    "0 0 0 1 * MONKEY", "0 0 0 ? * MONDAY", "0 0 0 ? * FRIL", "0 0 0 ? * MON#2", "0 0 0 ? * 4,2#1",
    "0 0 0 ? * 1-3#2", "0 0 0 ? * L,1", "0 0 0 LW,3 * ?", "0 0 12 ? * wed#2",
    "0 0 12 lw * ?", "0 0 12 ? * 5l", "0 0 0 1 1 ? 2024-2026/2", "0 0 0 1 1 ? 2026-2024",
    "0 0 0 1 1 ? 2025,2027,2029", "0 30 9 ? * 2-6", "0 0 0 ? * 7-1", "0 0 0 ? * 3-3", "0 0 */25 * * ?",
    "0 0 0 1/40 * ?", "0 0/61 * * * ?", "0 0 0 ? 1/13 *", "0 0 0 ? * */8", "1,2,3,4,5 * * * * ?",
    "0 0 0 ? * SAT#5", "0 0 0 ? * SUN#5 2026", "0 0 0 L * ? 2199", "0 0 0 ? * 6L 2100",
]

STARTS = ["2024-01-01T00:00:00Z", "2024-02-28T23:59:59Z", "2025-06-14T10:15:00Z", "2026-11-29T01:38:00Z",
          "2028-12-31T23:59:59Z"]

FIELDS = [  # (min, max, names)
    (0, 59, None), (0, 59, None), (0, 23, None), (1, 31, None), (1, 12, ["JAN", "FEB", "MAR", "APR", "MAY",
    "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]), (1, 7, ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]),
]


def value(rng, lo, hi, names):
    v = rng.randint(lo, hi)
    if names and rng.random() < 0.4:
        return names[v - lo]
    return str(v)


def item(rng, lo, hi, names, allow_star=True):
    r = rng.random()
    if r < 0.25 and allow_star:
        return "*" if rng.random() < 0.5 else "*/%d" % rng.randint(1, min(hi - lo + 1, 30))
    if r < 0.55:
        return value(rng, lo, hi, names)
    if r < 0.8:
        a, b = value(rng, lo, hi, names), value(rng, lo, hi, names)
        s = "%s-%s" % (a, b)
        return s + ("/%d" % rng.randint(1, 5) if rng.random() < 0.4 else "")
    return "%s/%d" % (rng.randint(lo, hi), rng.randint(1, 10))


def field(rng, i):
    lo, hi, names = FIELDS[i]
    if i <= 2 and rng.random() < 0.3:
        return "0" if i == 0 else item(rng, lo, hi, names)
    n = 1 if rng.random() < 0.7 else rng.randint(2, 3)
    return ",".join(item(rng, lo, hi, names) for _ in range(n))


def random_expression(rng):
    parts = [field(rng, i) for i in range(6)]
    if rng.random() < 0.5:
        parts[3] = "?"
        r = rng.random()
        if r < 0.15:
            parts[5] = "%d#%d" % (rng.randint(1, 7), rng.randint(1, 5))
        elif r < 0.3:
            parts[5] = "%dL" % rng.randint(1, 7)
    else:
        parts[5] = "?"
        r = rng.random()
        if r < 0.1:
            parts[3] = "L" if rng.random() < 0.5 else "L-%d" % rng.randint(0, 10)
        elif r < 0.2:
            parts[3] = "%dW" % rng.randint(1, 31)
        elif r < 0.25:
            parts[3] = "LW"
    if rng.random() < 0.2:
        y = rng.randint(2024, 2040)
        parts.append(str(y) if rng.random() < 0.5 else "%d-%d" % (y, y + rng.randint(0, 10)))
    return " ".join(parts)


def main():
    rng = random.Random(20261129)
    expressions = list(HAND)
    seen = set(expressions)
    while len(expressions) < len(HAND) + 1000:
        e = random_expression(rng)
        if e not in seen:
            seen.add(e)
            expressions.append(e)
    for e in expressions:
        for s in STARTS:
            print("%s\t%s\t%d" % (e, s, 6))


if __name__ == "__main__":
    main()

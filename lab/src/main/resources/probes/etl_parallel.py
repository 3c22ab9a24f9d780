"""The ETL parse of conclab's etl module in CPython: the csv module over byte ranges, sequentially, on threads and
on processes.

The input is the order CSV files the JVM generated (``--files``). Each file is cut into byte ranges of
``--range-bytes``; a range owns the lines that START inside it (the line it starts in belongs to the range
before, the line it ends in is read to its end), exactly as the JVM's RangeScanner does, so the ranges can be
parsed independently and in any order. Each range is read as bytes, decoded and handed to ``csv.reader``; each
record is validated with the JVM parser's rules (the same reject reasons), cancelled and refunded orders are left
out, the amount is converted to EUR hundredths with the same fixed rates (rounding down), and counts and sums are
aggregated per (country, day).

Three ways to run the same ``parse_range`` over the same ranges, each timed ``--repeat`` times (best kept):
  sequential   one thread, ranges in order
  threads      ThreadPoolExecutor(--workers): the GIL lets one thread run Python bytecode at a time
  processes    ProcessPoolExecutor(--workers), started and warmed before the clock (its start-up is reported
               apart, as pool_start_s): one interpreter and one GIL per process; each worker pickles its range's
               partial totals back (a few hundred keys, not records)

Prints one JSON object on stdout:
  python, implementation, cpu_count   (probelib.emit)
  workers, ranges, bytes              the input
  records, rejects, filtered          counters of the sequential run
  digest                              SHA-256 of the sorted lines "CC,YYYY-MM-DD,count,sum_cents\\n"
  threads_digest, processes_digest    the same for the other two runs
  sequential_s, threads_s, processes_s   best times, seconds
  pool_start_s                        starting the process pool and running one task in each worker, seconds
"""

import argparse
import csv
import hashlib
import io
import os
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

from probelib import best_of_each, emit, positive_int

CURRENCY_PPM = {"EUR": 1_000_000, "USD": 920_000, "GBP": 1_170_000, "JPY": 6_200, "CHF": 1_050_000, "SEK": 88_000}
STATUSES = ("PAID", "SHIPPED", "CANCELLED", "REFUNDED")
KEPT = ("PAID", "SHIPPED")
MAX_AMOUNT_CENTS = 100_000_000
MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def ranges_of(files, range_bytes):
    """(path, start, end) for every range of every file, in order (the JVM's RangeSplitter cut)."""
    out = []
    for path in files:
        size = os.path.getsize(path)
        start = 0
        while True:
            end = min(size, start + range_bytes)
            out.append((path, start, end))
            start = end
            if start >= size:
                break
    return out


def range_text(path, start, end):
    """The text of the lines that start in [start, end): skip the partial first line, finish the last one."""
    with open(path, "rb") as f:
        first = max(0, start - 1)
        f.seek(first)
        data = f.read(end - first)
        tail = b""
        if not data.endswith(b"\n"):
            rest = f.readline()  # the line that starts before `end` ends after it
            tail = rest
    data += tail
    if start > 0:
        # The byte before `start` tells whether `start` is a line start; if not, drop the partial line.
        nl = data.find(b"\n")
        data = data[nl + 1:] if nl >= 0 else b""
    return data.decode("ascii", errors="replace")


def valid_day(ts):
    """'YYYY-MM-DD' of a 'YYYY-MM-DDThh:mm:ssZ' timestamp, or None (the JVM's checks)."""
    if len(ts) != 20 or ts[4] != "-" or ts[7] != "-" or ts[10] != "T" or ts[13] != ":" or ts[16] != ":" \
            or ts[19] != "Z":
        return None
    hh, mm, ss = ts[11:13], ts[14:16], ts[17:19]
    if not (hh.isdigit() and mm.isdigit() and ss.isdigit()) or int(hh) > 23 or int(mm) > 59 or int(ss) > 59:
        return None
    y, m, d = ts[0:4], ts[5:7], ts[8:10]
    if not (y.isdigit() and m.isdigit() and d.isdigit()):
        return None
    year, month, day = int(y), int(m), int(d)
    if year < 2000 or year > 2099 or month < 1 or month > 12 or day < 1:
        return None
    length = 29 if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else MONTH_DAYS[month - 1]
    return ts[0:10] if day <= length else None


def amount_cents(text):
    """Hundredths of a positive amount with at most two decimals, or None."""
    whole, dot, frac = text.partition(".")
    if not whole.isdigit() or (dot and (not frac.isdigit() or len(frac) > 2)):
        return None
    cents = int(whole) * 100 + (int(frac.ljust(2, "0")) if dot else 0)
    return cents if 0 < cents <= MAX_AMOUNT_CENTS else None


def parse_range(task):
    """Parses one range: ({(country, day): [count, eur_cents]}, records, rejects, filtered)."""
    path, start, end = task
    totals = {}
    records = rejects = filtered = 0
    for row in csv.reader(io.StringIO(range_text(path, start, end))):
        if not row:
            continue
        if row[0] == "id":  # the header line
            continue
        if len(row) != 7:
            rejects += 1
            continue
        rid, ts, customer, country, amount, currency, status = row
        day = valid_day(ts)
        cents = amount_cents(amount)
        if not rid.isdigit() or day is None or len(customer) < 2 or customer[0] != "C" \
                or not customer[1:].isdigit() or len(country) != 2 or not ("AA" <= country <= "ZZ") \
                or not country.isupper() or cents is None or currency not in CURRENCY_PPM or status not in STATUSES:
            rejects += 1
            continue
        if status not in KEPT:
            filtered += 1
            continue
        records += 1
        key = (country, day)
        entry = totals.get(key)
        eur = cents * CURRENCY_PPM[currency] // 1_000_000
        if entry is None:
            totals[key] = [1, eur]
        else:
            entry[0] += 1
            entry[1] += eur
    return totals, records, rejects, filtered


def merge(parts):
    totals = {}
    records = rejects = filtered = 0
    for part, rec, rej, fil in parts:
        records += rec
        rejects += rej
        filtered += fil
        for key, (count, eur) in part.items():
            entry = totals.setdefault(key, [0, 0])
            entry[0] += count
            entry[1] += eur
    return totals, records, rejects, filtered


def digest(totals):
    lines = "".join(f"{c},{d},{n},{s}\n" for (c, d), (n, s) in sorted(totals.items()))
    return hashlib.sha256(lines.encode("ascii")).hexdigest()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", nargs="+", required=True)
    parser.add_argument("--range-bytes", type=positive_int, default=1 << 20)
    parser.add_argument("--workers", type=positive_int, default=2)
    parser.add_argument("--repeat", type=positive_int, default=3)
    args = parser.parse_args()
    tasks = ranges_of(args.files, args.range_bytes)
    results = {}

    def sequential():
        results["sequential"] = merge(map(parse_range, tasks))

    def threads():
        with ThreadPoolExecutor(args.workers) as pool:
            results["threads"] = merge(pool.map(parse_range, tasks))

    started = time.perf_counter()
    process_pool = ProcessPoolExecutor(args.workers)
    list(process_pool.map(abs, range(args.workers)))  # every worker started before the clock
    pool_start_s = time.perf_counter() - started

    def processes():
        results["processes"] = merge(process_pool.map(parse_range, tasks))

    try:
        best = best_of_each(args.repeat, sequential=sequential, threads=threads, processes=processes)
    finally:
        process_pool.shutdown()
    totals, records, rejects, filtered = results["sequential"]
    emit({
        "workers": args.workers,
        "ranges": len(tasks),
        "bytes": sum(os.path.getsize(f) for f in args.files),
        "records": records,
        "rejects": rejects,
        "filtered": filtered,
        "digest": digest(totals),
        "threads_digest": digest(results["threads"][0]),
        "processes_digest": digest(results["processes"][0]),
        "sequential_s": best["sequential"],
        "threads_s": best["threads"],
        "processes_s": best["processes"],
        "pool_start_s": pool_start_s,
    })


if __name__ == "__main__":
    main()

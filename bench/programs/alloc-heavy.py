# The interpreter workload: Python code whose objects outgrow pymalloc's
# small-object pools (over 512 bytes), so the interpreter itself calls malloc,
# realloc and free: long strings, growing lists and dicts, JSON round trips.
import json
import sys

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 60


def one_round(seed):
    # Strings and lists of a few hundred bytes to a few kilobytes each.
    blocks = ["%d:" % i + "x" * (520 + (i * 37 + seed) % 1500) for i in range(2000)]
    rows = [list(range(i % 50, i % 50 + 80)) for i in range(2000)]
    index = {b[:12]: len(b) for b in blocks}
    text = json.dumps({"rows": rows[:200], "index": index})
    back = json.loads(text)
    joined = [",".join(map(str, row)) for row in back["rows"]]
    return sum(len(s) for s in joined) + len(back["index"]) + sum(map(len, blocks))


kept = []
total = 0
for seed in range(ROUNDS):
    total += one_round(seed)
    # A few results outlive their round, as caches do in real programs.
    if seed % 10 == 0:
        kept.append(" " * (1000 + seed))
print(total, len(kept))

"""Motor 2.3 (PyMongo on a thread pool) doing what bench/mongo's Go client
does, for bench/mongo/run.sh: python3 motor_bench.py OP C SECONDS URI prints
one JSON line with the operations, their rate and the process's CPU time per
operation. Debian's python3-motor, run with /usr/bin/python3."""

import asyncio
import json
import resource
import sys
import time

from motor.motor_asyncio import AsyncIOMotorClient

NDOCS = 1000
PAD = "0123456789abcdef0123456789abcdef"


def cpu():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


async def main(op, conc, seconds, uri):
    client = AsyncIOMotorClient(uri)
    db = client.bench
    docs, ins = db.docs, db.ins
    state = {"ops": 0, "measuring": False, "stop": False}

    async def one(i):
        if op == "insert":
            await ins.insert_one({"n": i, "pad": PAD})
        elif op == "findone":
            await docs.find_one({"_id": i % NDOCS})
        elif op == "cursor":
            n = 0
            async for _ in docs.find({}):
                n += 1
            assert n == NDOCS, n
        else:
            raise SystemExit("unknown op " + op)

    async def worker(w):
        i = w
        while not state["stop"]:
            await one(i)
            i += conc
            if state["measuring"]:
                state["ops"] += 1

    workers = [asyncio.ensure_future(worker(w)) for w in range(conc)]
    await asyncio.sleep(0.5)
    c0, t0 = cpu(), time.monotonic()
    state["ops"], state["measuring"] = 0, True
    await asyncio.sleep(seconds)
    state["measuring"] = False
    n, c, wall = state["ops"], cpu() - c0, time.monotonic() - t0
    state["stop"] = True
    await asyncio.gather(*workers)
    client.close()
    print(json.dumps({"impl": "motor", "op": op, "c": conc, "ops": n,
                      "ops_per_s": n / wall, "cpu_us_per_op": c * 1e6 / max(n, 1)}))


if __name__ == "__main__":
    asyncio.get_event_loop().run_until_complete(
        main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]))

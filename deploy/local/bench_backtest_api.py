"""The end-to-end half of `just bench backtest`: backtests through the running gateway.

    bench_backtest_api.py GATEWAY START END CANDLES PID_FILE [--label L] [--concurrent N] [--key-file F]
    bench_backtest_api.py --compare A.json B.json

POSTs N spot grid backtests over the given range at once (threads) with a partner key (the
`partnerApiKey` or `apiKey` of --key-file, default .local/seed.json),
polls each one's status (every 10 ms alone, 80 ms with 4) until it is completed, reads the results, and prints the
wall time from the POST to `completed` (the slowest, with N > 1), candles/s, and the
backtest-executor process's peak RSS (VmHWM). The first backtest's results are kept in
.local/bench/results-<label>.json; --compare checks that two such files hold the same results
(ids and execution times aside), to the last decimal.
"""

import json
import sys
import threading
import time
import urllib.error
import urllib.request

SETTINGS = {"symbol": "SIM_BTC_USDT_", "lowerLimit": 25000, "upperLimit": 31000, "gridCount": 30,
            "investmentAsset": "Quote", "investmentAmount": 9900}
# Fields that name the run rather than describe its outcome.
RUN_FIELDS = ("backtestId", "executionStart", "executionEnd")


def compare(first, second):
    a, b = (json.load(open(path)) for path in (first, second))
    for field in RUN_FIELDS:
        a.pop(field, None)
        b.pop(field, None)
    if a != b:
        differing = sorted(key for key in set(a) | set(b) if a.get(key) != b.get(key))
        sys.exit(f"results differ between {first} and {second}: {', '.join(differing)}")
    print(f"results identical ({first} = {second}: {a['orders']['filled']} fills,"
          f" fees {a['summary']['feeCosts']}, realized profit {a['summary']['realizedProfit']})")


def main():
    if sys.argv[1] == "--compare":
        return compare(sys.argv[2], sys.argv[3])
    gateway, start, end, candles, pid_file = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    options = dict(zip(sys.argv[6::2], sys.argv[7::2]))
    label, concurrent = options.get("--label", "now"), int(options.get("--concurrent", "1"))
    keys = json.load(open(options.get("--key-file", ".local/seed.json")))
    key = keys.get("partnerApiKey") or keys["apiKey"]

    def call(method, path, body=None):
        request = urllib.request.Request(gateway + path, method=method, data=body, headers={"x-api-key": key})
        if body is not None:
            request.add_header("content-type", "application/json")
        while True:
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    return json.loads(response.read(), parse_float=str)
            except urllib.error.HTTPError as error:
                # The partner key's rate limit (100 requests a second): wait as told, ask again.
                if error.code != 429:
                    raise
                time.sleep(float(error.headers.get("Retry-After") or 0.05))

    body = json.dumps({"type": "spot_grid", "exchangeId": "SIM", "startUnix": start, "endUnix": end,
                       "settings": SETTINGS}).encode()
    finished = [None] * concurrent
    # Every 10 ms alone; together the pollers stay below the partner key's 100 requests a second.
    poll = 0.01 * max(1, concurrent * 2 if concurrent > 1 else 1)

    def one(index):
        began = time.monotonic()
        backtest = call("POST", "/partner/v1/bots/backtest", body)["data"]["backtestId"]
        while True:
            status = call("GET", f"/partner/v1/bots/backtest/{backtest}/status")["data"]
            if status["state"] in ("completed", "failed", "cancelled"):
                break
            if time.monotonic() - began > 120:
                status = {"state": "timeout", "message": "still running after 120 s"}
                break
            time.sleep(poll)
        finished[index] = (backtest, status, time.monotonic() - began)

    began = time.monotonic()
    threads = [threading.Thread(target=one, args=(index,)) for index in range(concurrent)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    for backtest, status, _ in finished:
        if status["state"] != "completed":
            sys.exit(f"backtest {backtest} {status['state']}: {status.get('message')}")
    backtest = finished[0][0]
    results = call("GET", f"/partner/v1/bots/backtest/{backtest}/results")["data"]
    with open(f".local/bench/results-{label}.json", "w") as out:
        json.dump(results, out)
    pid = open(pid_file).read().strip()
    rss_kb = next(int(line.split()[1]) for line in open(f"/proc/{pid}/status") if line.startswith("VmHWM:"))
    if concurrent == 1:
        print(f"{label} through the API: backtest {backtest}, {candles:,} candles, {results['orders']['filled']} fills")
        print(f"  POST -> completed (load, run, store, polled every 10 ms)  {elapsed * 1000:8.0f} ms   (target <= 500)")
    else:
        times = sorted(seconds for _, _, seconds in finished)
        print(f"{label} through the API: {concurrent} backtests of {candles:,} candles at once")
        print(f"  all {concurrent} POST -> completed                                {elapsed * 1000:8.0f} ms"
              f"   (each: {', '.join(f'{t * 1000:.0f}' for t in times)} ms)")
    print(f"  throughput                                               {concurrent * candles / elapsed:8.0f} candles/s")
    print(f"  backtest-executor peak RSS (VmHWM, whole process)        {rss_kb / 1024:8.1f} MB   (target <= 100)")


main()

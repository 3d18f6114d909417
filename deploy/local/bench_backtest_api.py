"""The end-to-end half of `just bench backtest`: one backtest through the running gateway.

POSTs a spot grid backtest over the given range with the seed's partner key, polls its status
every 20 ms until it is completed, reads the results, and prints the wall time from the POST
to `completed`, candles/s, and the backtest-executor process's peak RSS (VmHWM).
"""

import json
import sys
import time
import urllib.request

gateway, start, end, candles, pid_file = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
key = json.load(open(".local/seed.json"))["partnerApiKey"]


def call(method, path, body=None):
    request = urllib.request.Request(gateway + path, method=method, data=body, headers={"x-api-key": key})
    if body is not None:
        request.add_header("content-type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


body = json.dumps({
    "type": "spot_grid", "exchangeId": "SIM", "startUnix": start, "endUnix": end,
    "settings": {"symbol": "SIM_BTC_USDT_", "lowerLimit": 25000, "upperLimit": 31000, "gridCount": 30,
                 "investmentAsset": "Quote", "investmentAmount": 9900},
}).encode()
began = time.monotonic()
backtest = call("POST", "/partner/v1/bots/backtest", body)["data"]["backtestId"]
while True:
    status = call("GET", f"/partner/v1/bots/backtest/{backtest}/status")["data"]
    if status["state"] in ("completed", "failed", "cancelled"):
        break
    if time.monotonic() - began > 120:
        sys.exit(f"backtest {backtest} still {status['state']} after 120 s")
    time.sleep(0.02)
elapsed = time.monotonic() - began
if status["state"] != "completed":
    sys.exit(f"backtest {backtest} {status['state']}: {status.get('message')}")
results = call("GET", f"/partner/v1/bots/backtest/{backtest}/results")["data"]
pid = open(pid_file).read().strip()
rss_kb = next(int(line.split()[1]) for line in open(f"/proc/{pid}/status") if line.startswith("VmHWM:"))
print(f"through the API: backtest {backtest}, {candles:,} candles, {results['orders']['total']} orders")
print(f"  POST -> completed (load, run, store, polled every 20 ms)  {elapsed * 1000:8.0f} ms   (target <= 3000)")
print(f"  throughput                                               {candles / elapsed:8.0f} candles/s")
print(f"  backtest-executor peak RSS (VmHWM, whole process)        {rss_kb / 1024:8.1f} MB   (target <= 100)")

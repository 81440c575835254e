"""bench/probe/measure.py OUT ERR CMD...: run CMD with stdout to OUT and stderr to ERR; print
"<wall ms> <peak RSS KiB>" of CMD and its children (getrusage, so no /usr/bin/time needed)."""
import resource
import subprocess
import sys
import time

out, err, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(out, "wb") as o, open(err, "wb") as e:
    t0 = time.perf_counter()
    subprocess.call(cmd, stdout=o, stderr=e)
    ms = (time.perf_counter() - t0) * 1000
print("%.1f %d" % (ms, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))

#!/usr/bin/env python3
"""start.py SEINPOSTD CONF LOG — start a daemon with NOTIFY_SOCKET pointing at a
private datagram socket and wait for its READY=1 (systemd's start-up
protocol). Prints "<pid> <ms from exec to READY>". The daemon keeps running
(its log goes to LOG); the caller stops it by pid."""
import os, socket, subprocess, sys, tempfile, time

seinpostd, conf, log = sys.argv[1:4]
d = tempfile.mkdtemp(prefix="sp-notify-")
path = os.path.join(d, "notify")
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(60)
env = dict(os.environ, NOTIFY_SOCKET=path)
with open(log, "ab") as out:
    t0 = time.monotonic()
    p = subprocess.Popen([seinpostd, "--config", conf], stdout=out, stderr=out, env=env,
                         stdin=subprocess.DEVNULL, start_new_session=True)
try:
    while True:
        msg = s.recv(4096).decode(errors="replace")
        if "READY=1" in msg.split("\n"):
            break
    ms = (time.monotonic() - t0) * 1000
    print(p.pid, "%.1f" % ms)
except socket.timeout:
    p.kill()
    print("start.py: %s did not report READY within 60 s" % conf, file=sys.stderr)
    sys.exit(1)
finally:
    s.close()
    os.unlink(path)
    os.rmdir(d)

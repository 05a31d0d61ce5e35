# Writes sequence-numbered 200-byte lines at $RATE lines/s for $DURATION s from $START_AT (Unix
# time; all writers of a run start together), each carrying its write time, then "done N" and
# idles (so it is not taken for a crash).
import os
import sys
import time

rate = int(os.environ.get("RATE", "5000"))
duration = float(os.environ.get("DURATION", "10"))
dyno = os.environ.get("DYNO", "?")
out = sys.stdout
time.sleep(max(0.0, float(os.environ.get("START_AT", "0")) - time.time()))
start = time.time()
seq = 0
while True:
    now = time.time()
    if now - start >= duration:
        break
    due = int((now - start) * rate)
    if due > seq:
        chunk = []
        while seq < due:
            seq += 1
            head = f"seq={seq:09d} t={now:.6f} "
            chunk.append(head + "x" * (200 - len(head)) + "\n")
        out.write("".join(chunk))
        out.flush()
    time.sleep(0.005)
out.write(f"done {seq}\n")
out.flush()
while True:
    time.sleep(3600)

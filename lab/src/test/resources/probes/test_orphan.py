"""Test probe: forks a child that keeps the probe's stdout open for a minute, prints its JSON and exits at once.

The child is an orphan as soon as the probe exits; the runner must still read the JSON promptly and leave no
process of the probe behind.
"""
import json
import os
import sys
import time

if __name__ == "__main__":
    sys.stdout.flush()
    child = os.fork()
    if child == 0:
        time.sleep(60)
        os._exit(0)
    print(json.dumps({"child": child}))
    sys.stdout.flush()
    os._exit(0)

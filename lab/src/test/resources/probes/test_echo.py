"""Test probe: prints its arguments back as JSON, so the runner's plumbing can be checked."""
import json
import platform
import sys

if __name__ == "__main__":
    print(json.dumps({"args": sys.argv[1:], "python": platform.python_version()}))

"""Test probe: fails the way a broken probe does, with a traceback on stderr and exit status 1."""
import sys

if __name__ == "__main__":
    print("not json")
    raise RuntimeError("the probe broke on purpose")

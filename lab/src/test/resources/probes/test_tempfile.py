"""Test probe: leaves a directory in its temp directory, as a killed multiprocessing parent leaves its pymp-*."""
import json
import os
import tempfile

if __name__ == "__main__":
    left = tempfile.mkdtemp(prefix="pymp-")
    with open(os.path.join(left, "listener"), "w") as f:
        f.write("left behind")
    print(json.dumps({"tmpdir": tempfile.gettempdir(), "left": left}))

"""What a data directory must hold after a power cut, for Scripts/powercut-test and
Scripts/flushpoint-test: read with sqlite3 and `weighpoint verify` on this machine."""
import glob, hashlib, json, os, re, sqlite3, subprocess, tomllib


class Lost(Exception):
    """The data directory does not hold what the unit promised."""


def decisions_logged(log):
    """From a unit's log: controller sequences decided `ok` (no record; their journal entry is
    settled after the line is written), and record numbers logged as stored."""
    ok, stored = set(), set()
    for line in log.splitlines():
        m = re.search(r'msg=decision controller_seq=(\d+) .*?decision=(\w+)', line)
        if m and m.group(2) == "ok":
            ok.add(int(m.group(1)))
        rec = re.search(r'msg=decision .* record=(\d+)', line)
        if rec:
            stored.add(int(rec.group(1)))
    return ok, stored


def check(data, wp, acked, ok_decided, stored_logged):
    """Checks `data` (a unit's data directory taken off a disk image): every acknowledged
    weighing is journalled, recorded or was decided ok; every record logged as stored is there;
    integrity_check is ok; every image is on disk with its hash; `weighpoint verify` passes.
    Returns (records, journalled, images); raises Lost."""
    if not os.path.exists(f"{data}/evidence.sqlite"):
        if acked:
            raise Lost(f"no evidence.sqlite, yet {len(acked)} weighings were acknowledged")
        return 0, 0, 0
    db = sqlite3.connect(f"{data}/evidence.sqlite")  # read-write: a WAL left behind is replayed
    try:
        if db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise Lost("PRAGMA integrity_check is not ok")
        tables = {t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "pending_weighings" not in tables:
            if acked:
                raise Lost(f"the database has no tables, yet {len(acked)} weighings were acknowledged")
            return 0, 0, 0
        journal = {s for (s,) in db.execute("SELECT controller_seq FROM pending_weighings")}
        records = {seq: json.loads(body)["weighing"]["controller_seq"] for seq, body in db.execute("SELECT seq, body FROM records")}
        recorded = set(records.values())
        lost = [s for s in acked if s not in journal and s not in recorded and s not in ok_decided]
        if lost:
            raise Lost(f"{len(lost)} weighings acknowledged to the controller are neither journalled, recorded nor decided ok: {lost[:20]}")
        missing = sorted(stored_logged - set(records))
        if missing:
            raise Lost(f"records logged as stored are gone: {missing[:20]}")
        images = 0
        for seq, rel in db.execute("SELECT seq, path FROM record_images"):
            p = f"{data}/{rel}"
            if not os.path.exists(p):
                raise Lost(f"record {seq}: image {rel} missing")
            with open(p, "rb") as f:
                if hashlib.sha256(f.read()).hexdigest() != os.path.basename(rel).split(".")[0]:
                    raise Lost(f"record {seq}: image {rel} torn (its hash differs)")
            images += 1
    finally:
        db.close()
    # The unit's state files, each written durably (temp file, fsync, rename, directory fsync):
    # whole or absent, never torn.
    if os.path.exists(f"{data}/wim.state"):
        with open(f"{data}/wim.state") as f:
            text = f.read()
        if not re.fullmatch(r"\d+\n", text):
            raise Lost(f"wim.state is torn: {text!r}")
    for path in sorted(glob.glob(f"{data}/calibration.toml") + glob.glob(f"{data}/calibration/*.toml")):
        with open(path, "rb") as f:
            profile = f.read()
        try:
            tomllib.loads(profile.decode())
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise Lost(f"{os.path.relpath(path, data)} is torn ({len(profile)} bytes): {e}")
    r = subprocess.run([wp, "verify", data], capture_output=True, text=True)
    if r.returncode != 0:
        raise Lost(f"weighpoint verify: {(r.stdout + r.stderr).strip()[-800:]}")
    return len(records), len(journal), images


def extract(image, inside, to):
    """Replays the ext4 journal of `image` (e2fsck) and copies `inside` out of it (debugfs);
    returns the copy's path. Raises Lost when e2fsck leaves errors."""
    r = subprocess.run(["e2fsck", "-fy", image], capture_output=True, text=True)
    if r.returncode not in (0, 1):
        raise Lost(f"e2fsck exited {r.returncode}: {r.stdout[-800:]}")
    os.makedirs(to, exist_ok=True)
    subprocess.run(["debugfs", "-R", f"rdump {inside} {to}", image], capture_output=True, text=True)
    return f"{to}/{os.path.basename(inside)}"

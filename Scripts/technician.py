"""A calibration technician at a terminal, for the console tests (Scripts/console-test and
Scripts/console-vm-test): types at the unit's console like minicom or PuTTY would (Enter is CR)
and reads what comes back, over any pair of file descriptors (a pipe to `weighpoint console
--stdio`, or the host side of the VM's serial port).

`session()` is the technician's night at the roadside, the same over both lines: failed logins
and the lockout, status, noise on the line, a reference-vehicle calibration against the
simulator's reference truck, applying it, checking it with the live view and a second run,
the tolerance, the audit trail, logout. Every step checks what the console answered.
"""
import codecs, os, re, select, time


class Terminal:
    def __init__(self, read_fd, write_fd, log_path):
        self.rfd, self.wfd = read_fd, write_fd
        self.buf = ""
        self.log = open(log_path, "a", encoding="utf-8")
        # A character's bytes may arrive in two reads on a serial line.
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def send(self, text, enter=True):
        data = text.encode() if isinstance(text, str) else text
        if enter:
            data += b"\r"
        # Slowly enough for a UART without flow control, as a person types.
        for i in range(0, len(data), 16):
            os.write(self.wfd, data[i:i + 16])
            time.sleep(0.01)

    def expect(self, pattern, timeout=30):
        """Waits for `pattern` (a regex) in what arrived; returns the match and drops the text
        up to its end, so each expect reads forward."""
        end = time.time() + timeout
        rx = re.compile(pattern, re.S)
        while True:
            m = rx.search(self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            left = end - time.time()
            if left <= 0:
                raise AssertionError(f"no {pattern!r} within {timeout} s; last output:\n{self.buf[-1500:]}")
            r, _, _ = select.select([self.rfd], [], [], min(left, 0.5))
            if r:
                try:
                    chunk = os.read(self.rfd, 4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    time.sleep(0.05)
                    continue
                text = self.decoder.decode(chunk)
                self.log.write(text)
                self.log.flush()
                self.buf += text

    def command(self, line, until, timeout=30):
        self.send(line)
        return self.expect(until, timeout)


# The command prompt, `DEVICE NAME> ` (a bare "> " also ends every "old -> new").
PROMPT = r"[\w.-]+ zhang> "


def login(t, name, pin):
    t.expect(r"login: ")
    t.send(name)
    t.expect(r"PIN: ")
    t.send(pin)
    t.expect(rf"Logged in as {re.escape(name)}")
    t.expect(rf"[\w.-]+ {re.escape(name)}> ")


def reference_run(t, lane, axles, passes, choice, timeout):
    """Runs `cal reference`; returns (mean error %, proposal text). `choice` answers the
    apply question (a / o / n)."""
    t.command(f"cal reference {lane} passes {passes}", r"Static axle loads[^\n]*: ")
    t.send(" ".join(str(a) for a in axles))
    t.expect(r"reference vehicle: %d axles, static gross %d kg" % (len(axles), sum(axles)))
    m = t.expect(rf"{passes} passes: mean error ([+-]\d+\.\d+) %, spread (\d+\.\d+) %", timeout)
    mean, spread = float(m.group(1)), float(m.group(2))
    prop = t.expect(r"proposed factors.*?(Apply [^\n]*\? )", 10)
    t.send(choice)
    return mean, spread, prop.group(0)


def session(t, pin, sha256, bias_percent, axles, lane=1, passes=10, pass_timeout=240):
    """The technician's session; returns facts for the caller to check against the store."""
    facts = {}
    # Two wrong PINs and an unknown name: the third failure locks the console.
    t.expect(r"login: ")
    t.send("zhang"); t.expect(r"PIN: "); t.send("000000"); t.expect(r"Login incorrect")
    t.expect(r"login: ")
    t.send("nobody"); t.expect(r"PIN: "); t.send(pin); t.expect(r"Login incorrect")
    t.expect(r"login: ")
    t.send("zhang"); t.expect(r"PIN: "); t.send("111111")
    t.expect(r"Login incorrect\r\nlocked for (\d+) s after 3 failed logins")
    t.expect(r"login: ")
    # While locked, even the right PIN is not asked for.
    t.send("zhang")
    m = t.expect(r"locked after 3 failed logins: try again in (\d+) s")
    time.sleep(int(m.group(1)) + 0.5)
    login(t, "zhang", pin)

    # status: the software identity is the executable's SHA-256.
    t.send("status")
    m = t.expect(r"sha256\s+([0-9a-f]{64})")
    assert m.group(1) == sha256, f"status shows sha256 {m.group(1)}, the executable's is {sha256}"
    t.expect(r"wim\s+connected")
    t.expect(r"calibration\s+[0-9a-f]{16}…, 0 factors, lane 1, 2 uncalibrated")
    t.expect(PROMPT)

    # Noise on the line: binary garbage, control bytes, an escape sequence, an over-long line.
    t.send(bytes([0x00, 0xFF, 0xFE, 0x1B, 0x5B, 0x41, 0x07, 0x80, 0xC3]), enter=False)
    t.send("x" * 300)
    t.expect(r"line too long \(100 bytes over 200\): ignored")
    t.command("frobnicate", r"unknown command 'frobnicate'")
    t.send("timx\x08e")  # a typo mended with backspace
    t.expect(r"UTC\s+\d{4}-\d\d-\d\dT")
    t.expect(r"Beijing\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(UTC\+8\)")
    t.expect(PROMPT)
    t.command("help cal reference", r"usage: cal reference LANE")
    t.expect(PROMPT)

    # A set without confirmation changes nothing.
    t.command("cal set 1 1.0100", r"lane 1, all speeds, all axle configurations: none -> 1\.0100 \(its weighings get 1\.0000 now, uncalibrated: \+1\.00 %\)")
    t.expect(r"Type yes to apply, anything else cancels: ")
    t.send("no")
    t.expect(r"not applied, nothing changed")
    t.expect(PROMPT)

    # The reference procedure: the simulator's sensor reads `bias_percent` heavy.
    mean, spread, proposal = reference_run(t, lane, axles, passes, "a", pass_timeout)
    assert abs(mean - bias_percent) < 1.0, f"mean error {mean} %, the simulated sensor is {bias_percent} % heavy"
    m = re.search(r"lane 1, all speeds, all axle configurations\s+none -> (\d\.\d{4}) ± (\d\.\d{4}) \((\d+) passes\)", proposal)
    assert m, f"no lane proposal in:\n{proposal}"
    factor = float(m.group(1))
    assert abs(factor - 1 / (1 + bias_percent / 100)) < 0.01, f"proposed factor {factor} for a {bias_percent} % heavy sensor"
    facts["factor"] = m.group(1)
    facts["bands"] = len(re.findall(r"lane 1, \d+-\d+ km/h", proposal))
    t.expect(r"Type yes to apply, anything else cancels: ")
    t.send("yes")
    m = t.expect(r"applied and recorded in the audit trail; profile sha256 ([0-9a-f]{16})…")
    facts["profile_prefix"] = m.group(1)
    t.expect(PROMPT)
    t.send("cal show 1")
    t.expect(r"calibration profile sha256 " + facts["profile_prefix"])
    t.expect(r"all speeds\s+all axle configurations\s+" + re.escape(facts["factor"]))
    t.expect(PROMPT)

    # The live view shows weighings corrected by the factor in force; any key ends it.
    t.command("live 1", r"live view of lane 1")
    t.expect(r"lane 1 #\d+ [\d.]+ km/h \d+ axles \d+ kg x0\.9\d{3} (valid|INVALID)", pass_timeout)
    t.send("q", enter=False)
    t.expect(r"\(live view ended\)")
    t.expect(PROMPT)

    # A check run after the calibration: the passes now read close to the static weights.
    mean2, _, _ = reference_run(t, lane, axles, 5, "n", pass_timeout)
    assert abs(mean2) < 1.0, f"after calibration the mean error is still {mean2} %"
    facts["mean_before"], facts["mean_after"], facts["spread"] = mean, mean2, spread
    t.expect(r"nothing applied, nothing changed")
    t.expect(PROMPT)

    # The tolerance, confirmed.
    t.command("tolerance set 4 100", r"tolerance: 0% \+ 0 kg -> 4% \+ 100 kg")
    t.expect(r"Type yes to apply")
    t.send("yes")
    t.expect(r"applied and recorded")
    t.expect(PROMPT)
    t.command("limits show", r"6\+-axle combination, single drive axle\s+46000 kg")
    t.expect(r"Tolerance deducted before comparing: 4% \+ 100 kg")

    # The audit trail holds all of it.
    t.send("audit 30")
    audit = t.expect(r"(#\d+ .*?)\r\n" + PROMPT, 15).group(1)
    for ev in ["console_login_failed", "console_lockout", "console_login", "calibration_reference", "calibration_change", "calibration_profile", "tolerance_change"]:
        assert f" {ev} " in audit, f"audit lacks {ev}:\n{audit}"
    assert "(not a valid name)" not in audit and "nobody console_login_failed" in audit, audit
    assert pin not in audit, "the PIN appears in the audit trail"
    t.command("records 3", r"(#\d+ .*delivered|no records)")
    t.expect(PROMPT)
    t.command("logout", r"logged out")
    t.expect(r"login: ")
    facts["audit"] = audit
    return facts

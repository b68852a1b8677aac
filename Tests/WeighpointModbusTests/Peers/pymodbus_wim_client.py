#!/usr/bin/python3
"""Independent peer: a pymodbus client that reads records from a Weighpoint WIM simulator the
way a third-party system would, decoding them with its own code from the profile TOML, and
acknowledging each. Prints one JSON object per record: {"seq", "lane", "gross_kg", "axles_kg"}.

Usage: pymodbus_wim_client.py PROFILE.toml PORT COUNT
"""
import json
import sys
import time
import tomllib

from pymodbus.client import ModbusTcpClient

profile = tomllib.load(open(sys.argv[1], "rb"))
port, count = int(sys.argv[2]), int(sys.argv[3])
rec, hs = profile["record"], profile["handshake"]
unit = profile["profile"]["unit_id"]
high_first = profile["profile"]["word_order"] == "high_first"


def u32(w):
    return (w[0] << 16 | w[1]) if high_first else (w[1] << 16 | w[0])


def field(regs, base, name, index=0):
    f = rec[name]
    width = 2 if f.get("type", "u16") in ("u32", "s32") else 1
    at = f["address"] - base + index * width
    raw = u32(regs[at:at + 2]) if width == 2 else regs[at]
    return round(raw * f.get("scale", 1))


client = ModbusTcpClient("127.0.0.1", port=port)
assert client.connect(), "cannot connect"
magic = client.read_holding_registers(hs["magic"]["address"], 1, slave=unit).registers[0]
assert magic == hs["magic"]["value"], f"magic {magic:#x}"
seen, deadline = 0, time.time() + 20
while seen < count and time.time() < deadline:
    newest = u32(client.read_holding_registers(hs["counter"]["address"], 2, slave=unit).registers)
    if newest == 0:
        time.sleep(0.05)
        continue
    base, length = rec["block"]["address"], rec["block"]["length"]
    regs = client.read_holding_registers(base, length, slave=unit).registers
    seq = field(regs, base, "sequence")
    n = field(regs, base, "axle_count")
    print(json.dumps({"seq": seq, "lane": field(regs, base, "lane"), "gross_kg": field(regs, base, "gross"),
                      "axles_kg": [field(regs, base, "axle_loads", i) for i in range(n)]}), flush=True)
    hi_lo = [seq >> 16, seq & 0xFFFF] if high_first else [seq & 0xFFFF, seq >> 16]
    client.write_registers(hs["ack"]["address"], hi_lo, slave=unit)
    seen += 1
client.close()

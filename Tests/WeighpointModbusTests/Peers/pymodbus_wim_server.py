#!/usr/bin/python3
"""Independent peer: a pymodbus TCP server that plays a WIM controller speaking a Weighpoint
register map (read from the same profile TOML), with its own encoder written here, so the
Swift driver is checked against code that shares nothing with it but the map.

Usage: pymodbus_wim_server.py PROFILE.toml PORT RECORDS.json
RECORDS.json: a list of {"seq", "time_s", "time_ms", "lane", "speed_kmh", "axles_kg", "tyres",
"groups", "body", "drive_axles", "status"}. Prints "ready" when listening. Counter handshake only.
"""
import json
import sys
import threading
import tomllib

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.server import StartTcpServer

profile = tomllib.load(open(sys.argv[1], "rb"))
port = int(sys.argv[2])
records = json.load(open(sys.argv[3]))
rec = profile["record"]
hs = profile["handshake"]
high_first = profile["profile"]["word_order"] == "high_first"
codes = profile["codes"]


def words32(v):
    v &= 0xFFFFFFFF
    hi, lo = v >> 16, v & 0xFFFF
    return [hi, lo] if high_first else [lo, hi]


def put(regs, field, value, index=0):
    f = rec[field]
    width = 2 if f.get("type", "u16") in ("u32", "s32") else 1
    raw = round(value / f.get("scale", 1))
    at = f["address"] + index * width
    if width == 2:
        regs[at:at + 2] = words32(raw)
    else:
        regs[at] = raw & 0xFFFF


def encode(r, size):
    regs = [0] * size
    put(regs, "sequence", r["seq"])
    put(regs, "time_s", r["time_s"])
    put(regs, "time_ms", r["time_ms"])
    put(regs, "lane", r["lane"])
    put(regs, "speed", r["speed_kmh"])
    put(regs, "axle_count", len(r["axles_kg"]))
    put(regs, "gross", sum(r["axles_kg"]))
    put(regs, "length", 16000)
    put(regs, "confidence", 95)
    put(regs, "status", r["status"])
    put(regs, "body", codes["body"][r["body"]])
    put(regs, "drive_axles", r["drive_axles"])
    for i, kg in enumerate(r["axles_kg"]):
        put(regs, "axle_loads", kg, i)
        put(regs, "axle_tyres", codes["tyres"][r["tyres"][i]], i)
    for i, g in enumerate(r["groups"]):
        put(regs, "groups", g, i)
    return regs


size = 4096
queue = list(records)


class Registers(ModbusSequentialDataBlock):
    def setValues(self, address, values):
        super().setValues(address, values)
        ack_at = hs["ack"]["address"]
        if address <= ack_at < address + len(values):
            w = super().getValues(ack_at, 2)
            acked = (w[0] << 16 | w[1]) if high_first else (w[1] << 16 | w[0])
            while queue and queue[0]["seq"] <= acked:
                queue.pop(0)
            self.show()

    def show(self):
        if queue:
            regs = encode(queue[0], size)
            block = rec["block"]
            super().setValues(block["address"], regs[block["address"]:block["address"] + block["length"]])
        newest = max(r["seq"] for r in records)
        super().setValues(hs["counter"]["address"], words32(newest))


block = Registers(0, [0] * size)
block.setValues(hs["magic"]["address"], [hs["magic"]["value"]])
block.show()
context = ModbusServerContext(slaves={profile["profile"]["unit_id"]: ModbusSlaveContext(hr=block, zero_mode=True)}, single=False)
threading.Timer(0.5, lambda: print("ready", flush=True)).start()
StartTcpServer(context=context, address=("127.0.0.1", port))

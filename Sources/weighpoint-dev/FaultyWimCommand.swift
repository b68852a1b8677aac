import ArgumentParser
import Foundation
import WeighpointCommandLine
import WeighpointCore
import WeighpointEvidence
import WeighpointJSON
import WeighpointModbus
import WeighpointTesting

/// A WIM controller that misbehaves as faulty ones were seen to (issue 17), on real Modbus TCP
/// or RTU, for `Scripts/faulty-wim-test`. It plays phases, each record waiting until the unit
/// has taken it (acknowledged), and prints one JSON line per record it showed:
/// `{"phase":…,"seq":…,"time":…,"lane":…,"gross_kg":…}`, then `{"phase":"done"}`.
///
/// 1. `good`: `--good` overloaded two-axle trucks (21 t on an 18 t limit), a second apart;
/// 2. `flap`: two trucks under the limit shown as sequence 1000 and 999 by turns, the
///    numbering starting again before each 999 (`--flaps` times);
/// 3. `ffff`: a record block of all 0xFFFF registers (erased or corrupt memory);
/// 4. `repeat`: the last good truck again, under a new number;
/// 5. `clock`: an overloaded truck dated a day ahead (the controller's clock jumped);
/// 6. `after`: `--after` overloaded trucks, the controller behaving again.
struct SimulateFaultyWim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faulty-wim",
        abstract: "A WIM controller that flaps its numbering, shows 0xFFFF registers, repeats a record and jumps its clock, then behaves.")

    @Option(help: "Register map: a name in Hardware/wim or a .toml path.") var profile = "generic-wim-v1"
    @Option(help: "Listen for Modbus TCP on HOST:PORT.") var listen: String?
    @Option(help: "Serve Modbus RTU on this serial device (e.g. one end of a socat pty pair).") var rtu: String?
    @Option(help: "RTU baud rate.") var baud = 9600
    @Option(help: "Good overloaded trucks first.") var good = 5
    @Option(help: "Times the numbering flaps between 1000 and 999.") var flaps = 20
    @Option(help: "Good trucks at the end.") var after = 3
    @Option(help: "Before the first record, wait this long (s) for the unit to connect.") var startDelay = 0.0

    func run() throws {
        let p = try loadProfile(profile)
        let sim = try WIMSimulator(profile: p, transport: try makeTransport(tcp: listen, rtu: rtu, baud: baud, listening: true))
        try sim.start()
        defer { sim.stop() }
        if let listen, listen.hasSuffix(":0") { line(.object(["phase": .string("listening"), "port": .int(Int64(sim.port))])) }
        if startDelay > 0 { usleep(UInt32(startDelay * 1_000_000)) }

        func show(_ phase: String, _ r: WIMRecord) {
            sim.enqueue(r)
            waitTaken(sim)
            say(phase, r)
        }
        func say(_ phase: String, _ r: WIMRecord) {
            line(.object([
                "phase": .string(phase), "seq": .int(Int64(r.sequence)), "time": .string(r.time.description), "lane": .int(Int64(r.lane)),
                "gross_kg": .int(Int64(r.grossKg)),
            ]))
        }
        var seq: UInt64 = 0
        var last: WIMRecord?
        for _ in 0..<good {
            seq += 1
            let r = MemoryWeighingSource.truck(seq: seq, lane: 1, time: now())
            show("good", r)
            last = r
            usleep(1_000_000)
        }
        let a = MemoryWeighingSource.truck(seq: 1000, lane: 1, time: now(), grossKg: 14_000)
        let b = MemoryWeighingSource.truck(seq: 999, lane: 1, time: now().adding(microseconds: 700_000), grossKg: 13_000)
        show("flap", a)
        for _ in 0..<flaps {
            sim.restartNumbering()
            show("flap", b)
            show("flap", a)
        }
        sim.restartNumbering()
        sim.enqueue(block: Array(repeating: 0xFFFF, count: p.blockLength))
        waitTaken(sim)
        line(.object(["phase": .string("ffff")]))
        sim.restartNumbering()
        if var r = last {
            r.sequence = 5000
            show("repeat", r)
        }
        show("clock", MemoryWeighingSource.truck(seq: 5001, lane: 1, time: now().adding(microseconds: 86_400_000_000)))
        seq = 5001
        for _ in 0..<after {
            seq += 1
            show("after", MemoryWeighingSource.truck(seq: seq, lane: 1, time: now()))
            usleep(1_000_000)
        }
        line(.object(["phase": .string("done")]))
        // Serve on until stopped, so the unit's polls are answered.
        while true { usleep(1_000_000) }
    }

    /// The unit's clock to the millisecond, as the register map carries it.
    func now() -> Timestamp { Timestamp(microseconds: ClockState.now().microseconds / 1000 * 1000) }

    /// One line on standard output, written at once (a pipe would otherwise hold it).
    func line(_ v: JSONValue) {
        FileHandle.standardOutput.write(Data((v.text + "\n").utf8))
    }

    /// Until the unit has acknowledged what is queued (no timeout: the test's guard stops us).
    func waitTaken(_ sim: WIMSimulator) {
        while sim.pendingCount > 0 { usleep(20_000) }
    }
}

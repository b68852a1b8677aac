import ArgumentParser
import Foundation
import WeighpointCommandLine
import WeighpointCore
import WeighpointModbus
import WeighpointTesting

struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run built-in device simulators.", subcommands: [SimulateWim.self, SimulateFaultyWim.self])
}

struct SimulateWim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wim",
        abstract: "A WIM controller on Modbus TCP or RTU generating realistic traffic, with fault injection.",
        discussion: """
            Faults: timeout, exception, wrong-unit-id, byte-by-byte, bad-crc, disconnect. \
            --fault NAME:EVERY injects NAME on every EVERY-th request; clients can also write a fault \
            code and count to the profile's simulator registers.
            """)

    @Option(help: "Register map: a name in Hardware/wim or a .toml path.")
    var profile = "generic-wim-v1"

    @Option(help: "Listen for Modbus TCP on HOST:PORT.")
    var listen: String?

    @Option(help: "Serve Modbus RTU on this serial device (e.g. one end of a socat pty pair).")
    var rtu: String?

    @Option(help: "RTU baud rate.")
    var baud = 9600

    @Option(help: "Vehicles per minute.")
    var rate: Double = 30

    @Option(help: "Lanes.")
    var lanes = 2

    @Option(help: "Share of overloaded vehicles, 0–1.")
    var overloadShare = 0.2

    @Option(help: "Share of flagged weighings, 0–1.")
    var flaggedShare = 0.05

    @Option(help: "Random seed of the traffic.")
    var seed: UInt64 = 1

    @Option(help: "Stop after this many vehicles (default: run until interrupted).")
    var vehicles: Int?

    @Option(help: "The first vehicle's sequence number (a controller that goes on from where it was).")
    var firstSequence: UInt64 = 1

    @Option(help: "Append the sequence of every record the unit acknowledges to this file, one a line, as it happens (for tests: what the controller may forget).")
    var acknowledged: String?

    @Option(help: "Inject a fault periodically, NAME:EVERY (repeatable).")
    var fault: [String] = []

    @Option(help: "Sensor error: systematic bias in percent (loads read this much heavy), for calibration work.")
    var sensorBias: Double = 0

    @Option(help: "Sensor error: percent more per 10 km/h above 50 km/h (less below).")
    var sensorSlope: Double = 0

    @Option(help: "Sensor error: random scatter per axle and pass, standard deviation in percent.")
    var sensorScatter: Double = 0

    @Option(help: "A reference vehicle for calibration: its static axle loads in kg, front first (e.g. 7000,11500,11500,8500,8500,8500).")
    var referenceAxles: String?

    @Option(help: "The reference vehicle's axles per group (e.g. 1,2,3; default one group per axle).")
    var referenceGroups: String?

    @Option(help: "The lane the reference vehicle drives on.")
    var referenceLane = 1

    @Option(help: "Every how many vehicles the reference vehicle passes (1: only the reference vehicle); the other traffic keeps off its lane.")
    var referenceEvery = 3

    func run() throws {
        let p = try loadProfile(profile)
        let transport = try makeTransport(tcp: listen, rtu: rtu, baud: baud, listening: true)
        var periodic: [(WIMFault, Int)] = []
        for f in fault {
            let parts = f.split(separator: ":")
            guard parts.count == 2, let kind = WIMFault(name: String(parts[0])), let every = Int(parts[1]), every > 0 else {
                throw ValidationError("--fault '\(f)': expected NAME:EVERY with NAME one of \(WIMFault.allCases.map(\.description).joined(separator: ", "))")
            }
            periodic.append((kind, every))
        }
        let sim: WIMSimulator
        do {
            sim = try WIMSimulator(profile: p, transport: transport)
            if let acknowledged {
                guard let out = FileHandle(forWritingAtPath: acknowledged) ?? (FileManager.default.createFile(atPath: acknowledged, contents: nil) ? FileHandle(forWritingAtPath: acknowledged) : nil) else {
                    throw ValidationError("--acknowledged \(acknowledged): cannot write the file")
                }
                out.seekToEndOfFile()
                sim.onAcknowledged { seqs in out.write(Data(seqs.map { "\($0)\n" }.joined().utf8)) }
            }
            try sim.start()
        } catch {
            printError("weighpoint simulate wim: \(error)")
            throw ExitCode(1)
        }
        if case .tcp(let host, _) = transport { printError("simulating \(p.name) on tcp://\(host):\(sim.port)") } else { printError("simulating \(p.name) on \(transport)") }
        var traffic = TrafficGenerator(seed: seed, firstSequence: firstSequence, lanes: lanes, overloadShare: overloadShare, flaggedShare: flaggedShare, flagBits: p.statusBits.values.sorted())
        let sensor = SensorErrorModel(biasPercent: sensorBias, slopePercentPer10Kmh: sensorSlope, scatterPercent: sensorScatter)
        var reference = try referenceTraffic()
        var rng = SplitMix64(seed: seed &+ 0x5EED)
        var made = 0
        var lastRequests = 0
        let interval = 60.0 / max(rate, 0.001)
        while vehicles.map({ made < $0 }) ?? true {
            let now = Timestamp(microseconds: Int64(Date().timeIntervalSince1970 * 1_000_000))
            var r: WIMRecord
            if reference != nil, made % max(referenceEvery, 1) == 0 {
                r = reference!.pass(sequence: traffic.nextSequence, at: now, rng: &rng)
                traffic.nextSequence += 1
                printError("reference pass seq=\(r.sequence) lane=\(r.lane) speed_kmh=\(r.speedKmh)")
            } else {
                r = traffic.vehicle(at: now)
                // The calibration lane is coned off: only the reference vehicle drives there.
                if reference != nil, r.lane == referenceLane, lanes > 1 { r.lane = referenceLane % lanes + 1 }
            }
            r = sensor.measure(r, rng: &rng)
            sim.enqueue(r)
            made += 1
            printError("vehicle seq=\(r.sequence) lane=\(r.lane) axles=\(r.axleCount) gross_kg=\(r.grossKg) status=\(r.status)")
            let requests = sim.statistics.requests
            for (f, every) in periodic where requests / every > lastRequests / every { sim.inject(f) }
            lastRequests = requests
            Thread.sleep(forTimeInterval: interval)
        }
        // Let the unit collect what is queued before stopping.
        while sim.pendingCount > 0 { Thread.sleep(forTimeInterval: 0.1) }
        sim.stop()
    }

    /// The reference vehicle of --reference-axles/--reference-groups, if given.
    func referenceTraffic() throws -> ReferenceVehicleTraffic? {
        guard let referenceAxles else { return nil }
        let axles = referenceAxles.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard (2...12).contains(axles.count), axles.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw ValidationError("--reference-axles '\(referenceAxles)': 2 to 12 axle loads in kg, comma-separated")
        }
        let groups = try referenceGroups.map { g -> [Int] in
            let v = g.split(separator: ",").compactMap { Int($0) }
            guard v.reduce(0, +) == axles.count, v.allSatisfy({ $0 > 0 }) else { throw ValidationError("--reference-groups '\(g)' does not add up to \(axles.count) axles") }
            return v
        } ?? Array(repeating: 1, count: axles.count)
        guard (1...lanes).contains(referenceLane) else { throw ValidationError("--reference-lane \(referenceLane) is not one of the \(lanes) lanes") }
        return ReferenceVehicleTraffic(axlesKg: axles.map { $0! }, groups: groups, lane: referenceLane)
    }
}


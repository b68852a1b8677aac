import ArgumentParser
import Foundation
import WeighpointCore
import WeighpointModbus
import WeighpointTesting

/// Where a Modbus device is, as given on the command line.
struct LinkOptions: ParsableArguments {
    @Option(help: "Modbus TCP controller, HOST:PORT.")
    var tcp: String?

    @Option(help: "Modbus RTU serial device, e.g. /dev/ttyUSB0.")
    var rtu: String?

    @Option(help: "RTU baud rate.")
    var baud = 9600

    @Option(help: "RTU parity: N, E or O.")
    var parity = "N"

    @Option(help: "RTU data bits.")
    var dataBits = 8

    @Option(help: "RTU stop bits.")
    var stopBits = 1

    func transport() throws -> ModbusTransport {
        try makeTransport(tcp: tcp, rtu: rtu, baud: baud, parity: parity, dataBits: dataBits, stopBits: stopBits, listening: false)
    }
}

/// The transport for `--tcp`/`--listen` or `--rtu` and its serial settings.
func makeTransport(tcp: String?, rtu: String?, baud: Int, parity: String = "N", dataBits: Int = 8, stopBits: Int = 1, listening: Bool) throws -> ModbusTransport {
        switch (tcp, rtu) {
        case (let t?, nil):
            guard let colon = t.lastIndex(of: ":"), let port = Int(t[t.index(after: colon)...]), (0...65535).contains(port) else {
                throw ValidationError("'\(t)' is not HOST:PORT")
            }
            return .tcp(host: String(t[..<colon]), port: port)
        case (nil, let d?):
            guard let p = ModbusTransport.Parity(rawValue: parity.uppercased()) else { throw ValidationError("parity '\(parity)' is not N, E or O") }
            guard [5, 6, 7, 8].contains(dataBits), [1, 2].contains(stopBits) else { throw ValidationError("data bits 5–8 and stop bits 1–2") }
            return .rtu(device: d, baud: baud, parity: p, dataBits: dataBits, stopBits: stopBits)
        default:
            throw ValidationError(listening ? "give exactly one of --listen HOST:PORT or --rtu DEVICE" : "give exactly one of --tcp HOST:PORT or --rtu DEVICE")
        }
}

func loadProfile(_ name: String) throws -> WIMProfile {
    do {
        return try WIMProfile.load(name)
    } catch {
        printError("weighpoint: \(error)")
        throw ExitCode(1)
    }
}

struct Wim: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Talk to a weigh-in-motion controller over Modbus.",
        subcommands: [Read.self, Bench.self])

    struct Read: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read vehicle records from a WIM controller and print them as JSON lines.",
            discussion: """
                Acknowledges each record to the controller after printing it, as the unit does. \
                Link events (connects, retries, gaps) go to standard error.
                """)

        @Option(help: "Register map: a name in Hardware/wim (generic-wim-v1, acme-x2) or a .toml path.")
        var profile: String

        @OptionGroup var link: LinkOptions

        @Option(help: "Unit id (default: the profile's).")
        var unitId: Int?

        @Option(help: "Stop after this many records (default: run until interrupted).")
        var count: Int?

        @Option(help: "Response timeout per request, ms.")
        var timeoutMs = 500

        @Option(help: "Also write the raw record blocks to this trace file (for regression tests).")
        var trace: String?

        @Option(help: "Trace header: the site.")
        var site = "unknown"

        @Option(help: "Trace header: the controller's firmware.")
        var firmware = "unknown"

        func run() throws {
            let p = try loadProfile(profile)
            var traceHandle: FileHandle?
            if let trace {
                guard FileManager.default.createFile(atPath: trace, contents: nil), let h = FileHandle(forWritingAtPath: trace) else {
                    printError("weighpoint wim read: cannot create \(trace)")
                    throw ExitCode(1)
                }
                let now = Timestamp(microseconds: Int64(Date().timeIntervalSince1970 * 1_000_000))
                let header = WIMTrace(header: [
                    ("device", try link.transport().description), ("firmware", firmware), ("site", site),
                    ("date", now.description), ("profile", p.name), ("captured-by", "weighpoint wim read"),
                ])
                h.write(Data(header.text.utf8))
                traceHandle = h
            }
            var settings = WIMLinkSettings(transport: try link.transport(), profile: p, unitId: unitId)
            settings.responseTimeoutMs = timeoutMs
            let traceOut = traceHandle
            let done = DispatchSemaphore(value: 0)
            let printed = Counter()
            let limit = count
            let driver = WIMDriver(settings) { event in
                switch event {
                case .weighing(let r):
                    guard limit.map({ printed.value < $0 }) ?? true else { return }
                    FileHandle.standardOutput.write(Data((r.jsonLine(p) + "\n").utf8))
                    traceOut?.write(Data((WIMTrace.line(r.rawBlock) + "\n").utf8))
                    if printed.increment() == limit { done.signal() }
                case .gap(let missing): printError("gap: controller records \(missing.lowerBound)–\(missing.upperBound) were never seen")
                case .duplicate(let seq): printError("duplicate: record \(seq) shown again; acknowledged again")
                case .sequenceReset(let from, let to): printError("sequence went back from \(from) to \(to): the controller restarted or its counter wrapped; reading on from there")
                case .connected(let endpoint): printError("connected: \(endpoint) profile=\(p.name)")
                case .disconnected(let e): printError("link down: \(e); reconnecting")
                case .retry(let e): printError("retry: \(e)")
                }
            }
            driver.start()
            done.wait()
            driver.stop()
        }
    }
}

/// A thread-safe count for callbacks.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    var value: Int { lock.withLock { n } }
    func increment() -> Int { lock.withLock { n += 1; return n } }
}

struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run built-in device simulators.", subcommands: [SimulateWim.self])
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
            try sim.start()
        } catch {
            printError("weighpoint simulate wim: \(error)")
            throw ExitCode(1)
        }
        if case .tcp(let host, _) = transport { printError("simulating \(p.name) on tcp://\(host):\(sim.port)") } else { printError("simulating \(p.name) on \(transport)") }
        var traffic = TrafficGenerator(seed: seed, lanes: lanes, overloadShare: overloadShare, flaggedShare: flaggedShare, flagBits: p.statusBits.values.sorted())
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


extension Wim {
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Benchmark WIM decoding and the poll loop against a bare libmodbus loop, side by side.",
            discussion: "Runs the simulator in-process on loopback. Build in release mode first. See BENCHMARKS.md.")

        @Option(help: "Register map.")
        var profile = "generic-wim-v1"

        @Option(help: "Vehicles queued in the simulator per run.")
        var records = 5000

        @Option(help: "Blocks decoded in memory.")
        var decodes = 200_000

        func run() throws {
            let p = try loadProfile(profile)
            var gen = TrafficGenerator(seed: 3)
            let t0 = Timestamp(microseconds: 1_795_000_000_000_000)
            let traffic = (0..<records).map { gen.vehicle(at: t0.adding(microseconds: Int64($0) * 2_000_000)) }
            print("wim bench: profile \(p.name), \(records) vehicles over Modbus TCP loopback, \(decodes) in-memory decodes")

            // Decoding alone.
            let blocks = traffic.prefix(1000).map { p.encode($0) }
            var sink = 0
            let decodeCPU = threadCPU {
                for i in 0..<decodes { sink &+= p.decode(blocks[i % blocks.count]).axleLoadsKg.count }
            }
            let decodeRate = Double(decodes) / decodeCPU
            print("decode                 \(format(1e6 / decodeRate, 2)) µs CPU per record, \(format(decodeRate / 1000, 0)) k records/s")

            // The driver's session: counter, block, ack per vehicle, decoding and events.
            let (driverWall, driverCPU) = try timedRun(p, traffic) { settings in
                let session = try WIMSession(settings, lastSequence: nil) { if case .weighing(let r) = $0 { sink &+= r.axleCount } }
                try session.connect()
                try session.drain()
                session.close()
            }
            // The same requests with libmodbus and nothing else: the floor.
            let (bareWall, bareCPU) = try timedRun(p, traffic) { settings in
                guard case .counter(let counter, let ack) = p.handshake else { throw ValidationError("bench needs a counter handshake profile") }
                let c = try ModbusClient(settings.transport, unitId: p.unitId)
                try c.connect()
                var last: UInt64 = 0
                while true {
                    let newest = p.handshakeValue(counter, try c.readHoldingRegisters(at: counter.address, count: counter.width))
                    if newest <= last { break }
                    let block = try c.readHoldingRegisters(at: p.blockAddress, count: p.blockLength)
                    last = UInt64(block[0]) << 16 | UInt64(block[1])
                    try c.writeRegisters(at: ack.address, p.handshakeRegisters(last, ack))
                }
                c.close()
            }
            func line(_ name: String, _ wall: Double, _ cpu: Double) -> String {
                "\(name.padding(toLength: 22, withPad: " ", startingAt: 0)) \(format(Double(records) / wall, 0)) vehicles/s, \(format(cpu / Double(records) * 1e6, 1)) µs CPU per vehicle (poll thread)"
            }
            print(line("driver (WIMSession)", driverWall, driverCPU))
            print(line("bare libmodbus loop", bareWall, bareCPU))
            print("ratio driver/bare: CPU per vehicle \(format(driverCPU / bareCPU, 2))×, throughput \(format(bareWall / driverWall, 2))×")
            _ = sink
        }

        /// Queues `traffic` in a fresh simulator and times `body` (wall, this thread's CPU).
        func timedRun(_ p: WIMProfile, _ traffic: [WIMRecord], _ body: (WIMLinkSettings) throws -> Void) throws -> (Double, Double) {
            let sim = try WIMSimulator(profile: p, transport: .tcp(host: "127.0.0.1", port: 0), capacity: traffic.count)
            try sim.start()
            defer { sim.stop() }
            for r in traffic { sim.enqueue(r) }
            let settings = WIMLinkSettings(transport: .tcp(host: "127.0.0.1", port: sim.port), profile: p)
            let start = Date()
            var failure: Error?
            let cpu = threadCPU {
                do { try body(settings) } catch { failure = error }
            }
            if let failure { throw failure }
            guard sim.pendingCount == 0 else { throw ValidationError("\(sim.pendingCount) vehicles left unread") }
            return (Date().timeIntervalSince(start), cpu)
        }
    }
}

/// CPU seconds the calling thread spends in `body` (CLOCK_THREAD_CPUTIME_ID).
func threadCPU(_ body: () -> Void) -> Double {
    var a = timespec(), b = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a)
    body()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b)
    return Double(b.tv_sec - a.tv_sec) + Double(b.tv_nsec - a.tv_nsec) / 1e9
}

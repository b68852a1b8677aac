import WeighpointCrypto
import ArgumentParser
import Foundation
import WeighpointCommandLine
import Logging
import ServiceLifecycle
import WeighpointCore
import WeighpointEvidence
import WeighpointModbus
import WeighpointService
import WeighpointTesting

/// One vehicle end to end through the running unit, at fixed offered rates: the WIM simulator on
/// Modbus TCP loopback, three replay cameras at 25 fps, every vehicle overloaded (so every one
/// becomes a signed record with three images), no case system. Per record: from the moment its
/// weighing became decidable (arrived, and every camera's expected time plus the match window
/// passed) to the record being durable. Compared in the same run with the store floor (the same
/// image bytes fsynced and renamed plus one SQLite FULL commit per record, `StoreFloor`).
struct UnitBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unit-bench", abstract: "End-to-end vehicle → signed durable record, at offered rates, against the store's fsync floor.")

    @Option(help: "Offered rates, vehicles per second, comma separated.") var rates = "10,50"
    @Option(help: "Seconds of traffic per rate.") var seconds = 20
    @Option(help: "Scratch directory (on the disk being measured).") var dir = ".build"
    @Option(help: "Directory of JPEG frames for the replay cameras (default: Images/).") var images: String?

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var h = KeyValueLogHandler(label: label)
            h.logLevel = .error
            return h
        }
        guard let imageDir = images ?? Demo.findImages() else { throw ValidationError("no Images/ directory found; pass --images") }
        let rateList = rates.split(separator: ",").compactMap { Double($0) }
        for rate in rateList {
            try await measure(rate: rate, imageDir: imageDir)
        }
    }

    func measure(rate: Double, imageDir: String) async throws {
        let base = URL(fileURLWithPath: dir).standardizedFileURL.path + "/weighpoint-unit-bench-\(getpid())-\(Int(rate))"
        try? FileManager.default.removeItem(atPath: base)
        defer { try? FileManager.default.removeItem(atPath: base) }
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        _ = try SigningKey.generate(.sm2).write(to: base + "/key")
        let profile = try WIMProfile.load("generic-wim-v1")
        let sim = try WIMSimulator(profile: profile, transport: .tcp(host: "127.0.0.1", port: 0), capacity: 100_000)
        try sim.start()
        defer { sim.stop() }
        var cams = ""
        for (id, role) in [("front-1", "front"), ("rear-1", "rear"), ("side-1", "side")] {
            cams += "[[cameras]]\nid = \"\(id)\"\nlane = 1\nrole = \"\(role)\"\ndistance_m = 0.0\nreplay = \"\(imageDir)\"\nreplay_fps = 25\n\n"
        }
        let toml = """
            [station]
            code = "BENCH"
            device_id = "WP-BENCH"
            site_type = "fixed"
            [[lanes]]
            number = 1
            [wim]
            profile = "generic-wim-v1"
            transport = "tcp://127.0.0.1:\(sim.port)"
            poll_interval_ms = 10
            model = "simulator"
            serial = "SIM"
            accuracy_class = "5"
            \(cams)
            [http]
            listen = "127.0.0.1:0"
            [rules]
            match_window_ms = 200
            [storage]
            data = "evidence"
            min_free_mb = 16
            [signing]
            key = "key/key.pem"
            """
        try toml.write(toFile: base + "/station.toml", atomically: true, encoding: .utf8)
        let config = try StationConfig.load(path: base + "/station.toml")
        let unit = try StationUnit(config: config, software: try SoftwareIdentity.current(), logger: Logger(label: "bench"), frames: replayOrDeviceFrameSources)
        let timings = TimingLog()
        unit.onRecordTiming = { received, due, durable in timings.add(received: received, due: due, durable: durable) }
        let vehicles = Int(rate * Double(seconds))
        let feeder = Feeder(sim: sim, rate: rate, vehicles: vehicles, timings: timings)
        try await UnitRunner.run(unit: unit, logger: Logger(label: "bench"), extra: [feeder])
        let t = timings.snapshot()
        // Records per second between the first weighing received and the last record durable.
        let span = Double((t.map(\.durable.microseconds).max() ?? 0) - (t.map(\.received.microseconds).min() ?? 0)) / 1e6
        let fromDue = t.map { Double($0.durable.microseconds - max($0.due.microseconds, $0.received.microseconds)) / 1000 }.sorted()
        let fromReceived = t.map { Double($0.durable.microseconds - $0.received.microseconds) / 1000 }.sorted()
        let commitSum = unit.metrics.value("weighpoint_store_commit_seconds_sum") ?? 0
        let commitCount = unit.metrics.value("weighpoint_store_commit_seconds_count") ?? 1
        // The floor: the same images, the same number of records, on the same disk.
        let records = try unit.store.records()
        let imageSets = try records.prefix(300).map { r in try unit.store.images(of: r.seq).map { [UInt8](try Data(contentsOf: URL(fileURLWithPath: $0.path))) } }
        let floorSeconds = try StoreFloor.run(directory: base + "/floor", records: imageSets)
        let floorMs = floorSeconds / Double(max(imageSets.count, 1)) * 1000
        let commitMs = commitSum / commitCount * 1000
        let imageKB = Double(imageSets.flatMap { $0 }.map(\.count).reduce(0, +)) / Double(max(imageSets.count, 1)) / 1024
        func pct(_ a: [Double], _ p: Double) -> Double { a.isEmpty ? .nan : a[min(a.count - 1, Int(Double(a.count) * p))] }
        print(
            "rate=\(Int(rate))/s vehicles=\(vehicles) records=\(records.count) images_per_record=\(imageSets.first?.count ?? 0) kb_per_record=\(format(imageKB, 0)) "
                + "throughput=\(format(Double(t.count - 1) / max(span, 1e-9), 1))/s "
                + "due_to_durable_ms_p50=\(format(pct(fromDue, 0.5), 1)) p99=\(format(pct(fromDue, 0.99), 1)) "
                + "received_to_durable_ms_p50=\(format(pct(fromReceived, 0.5), 1)) p99=\(format(pct(fromReceived, 0.99), 1)) "
                + "commit_ms_mean=\(format(commitMs, 2)) floor_ms=\(format(floorMs, 2)) commit/floor=\(format(commitMs / floorMs, 2))x")
        if records.count != vehicles { print("  only \(records.count) of \(vehicles) vehicles became records") }
    }
}

final class TimingLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [(received: Timestamp, due: Timestamp, durable: Timestamp)] = []
    func add(received: Timestamp, due: Timestamp, durable: Timestamp) { lock.withLock { items.append((received, due, durable)) } }
    func snapshot() -> [(received: Timestamp, due: Timestamp, durable: Timestamp)] { lock.withLock { items } }
    var count: Int { lock.withLock { items.count } }
}

/// Offers overloaded vehicles to the simulator at a fixed rate, then waits for every record.
struct Feeder: Service {
    let sim: WIMSimulator
    let rate: Double
    let vehicles: Int
    let timings: TimingLog

    func run() async throws {
        var gen = TrafficGenerator(seed: 3, lanes: 1, overloadShare: 1.0, flaggedShare: 0)
        let start = ContinuousClock.now
        for i in 0..<vehicles {
            let at = start + .microseconds(Int64(Double(i) / rate * 1_000_000))
            try? await Task.sleep(until: at, clock: .continuous)
            sim.enqueue(gen.vehicle(at: ClockState.now()))
        }
        let deadline = ContinuousClock.now + .seconds(60)
        while timings.count < vehicles && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
    }
}

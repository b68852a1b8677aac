import WeighpointCrypto
import ArgumentParser
import AsyncHTTPClient
import Foundation
import WeighpointCommandLine
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import WeighpointCapture
import WeighpointCaseSink
import WeighpointCore
import WeighpointEvidence
import WeighpointModbus
import WeighpointService
import WeighpointTesting
import WeighpointJSON

/// The whole unit on loopback with no hardware: the WIM simulator on real Modbus TCP, replay
/// cameras from Images/, simulated ANPR reads posted to the unit's HTTP endpoint, the evidence
/// store, and the reference case receiver; prints each decision, then a summary, and verifies
/// the unit's and the receiver's data.
struct Demo: AsyncParsableCommand {
    /// The demo unit's device id: its records name it, and the receiver has its key under it.
    static let deviceID = "WP-DEMO-0001"
    static let configuration = CommandConfiguration(
        abstract: "Run the whole unit on its simulators for N vehicles, then verify what it wrote and delivered.")

    @Option(help: "Vehicles to drive over the sensor.") var vehicles = 20
    @Option(help: "Data directory (the unit's store, the receiver's data, the generated station.toml and keys).") var data = "demo-data/unit"
    @Option(help: "Vehicles per second.") var rate = 2.0
    @Option(help: "A PKI made by Scripts/make-pki (ca.pem, server.*, client.*, anpr-front-1.*): delivery and pushed plate reads over TLS with client certificates (default: one made in DATA/pki).") var pki: String?
    @Option(help: "Seed of the synthetic traffic.") var seed: UInt64 = 7
    @Option(help: "Directory of JPEG frames for the replay cameras (default: Images/ of this project).") var images: String?
    @Option(help: "Frame sequences of passing plates (Scripts/make-plate-images --sequences N): lane 1's front camera then reads plates with the built-in recogniser, each vehicle shown to it as one of these sequences.") var recognizerPlates: String?

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var h = KeyValueLogHandler(label: label)
            h.logLevel = ProcessInfo.processInfo.environment["WEIGHPOINT_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
            return h
        }
        let log = Logger(label: "demo")
        let fm = FileManager.default
        let dir = URL(fileURLWithPath: data).standardizedFileURL.path
        try fm.createDirectory(atPath: dir + "/key", withIntermediateDirectories: true)
        let pki = URL(fileURLWithPath: self.pki ?? dir + "/pki").standardizedFileURL.path
        if self.pki == nil || !fm.fileExists(atPath: pki + "/anpr-front-1.pem") {
            let made = try runProcess(URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Scripts/make-pki").standardized.path, [pki])
            guard made.status == 0 else { throw ValidationError("Scripts/make-pki failed: \(made.stderr)") }
        }
        // Lane 2's front camera pushes with a bearer token (lane 1's with its client certificate).
        let token = PushCredential.newToken()
        guard let imageDir = images ?? Self.findImages() else { throw ValidationError("no Images/ directory found; pass --images") }

        // Signing key, trusted by the receiver.
        let keyPath = dir + "/key/key.pem"
        if !fm.fileExists(atPath: keyPath) { _ = try SigningKey.generate(.sm2).write(to: dir + "/key") }
        try fm.createDirectory(atPath: dir + "/trust", withIntermediateDirectories: true)
        let registered = dir + "/trust/" + Self.deviceID + ".pem"
        _ = try? fm.removeItem(atPath: registered)
        try fm.copyItem(atPath: dir + "/key/pub.pem", toPath: registered)

        // The reference case receiver.
        let ledger = try CaseLedger(directory: dir + "/case-system", registry: DeviceKeyDirectory(directory: dir + "/trust"))
        let sinkTLS = SinkTLS(certificatePath: pki + "/server.pem", keyPath: pki + "/server.key", clientCAPath: pki + "/ca.pem")
        let sinkPort = PortBox()
        let sink = try CaseSink.application(host: "127.0.0.1", port: 0, tls: sinkTLS, ledger: ledger) { sinkPort.set($0) }
        let sinkTask = Task { try await sink.run() }
        defer { sinkTask.cancel() }
        let receiverPort = try await sinkPort.wait()

        // The WIM controller simulator on Modbus TCP loopback.
        let profile = try WIMProfile.load("generic-wim-v1")
        let sim = try WIMSimulator(profile: profile, transport: .tcp(host: "127.0.0.1", port: 0))
        try sim.start()
        defer { sim.stop() }

        // The station configuration the daemon would read.
        let scheme = "https"
        let tlsLines = "client_certificate = \"\(pki)/client.pem\"\nclient_key = \"\(pki)/client.key\"\nca_bundle = \"\(pki)/ca.pem\"\n"
        let configPath = dir + "/station.toml"
        let bank = try recognizerPlates.map { try PlateBank(directory: $0) }
        try Self.stationTOML(wimPort: sim.port, images: imageDir, data: dir + "/evidence", key: keyPath, caseURL: "\(scheme)://127.0.0.1:\(receiverPort)", tls: tlsLines, pki: pki, token: token, recognizer: bank != nil)
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        let config: StationConfig
        do { config = try StationConfig.load(path: configPath) } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
        let unit = try StationUnit(config: config, software: try SoftwareIdentity.current(), logger: log, frames: replayOrDeviceFrameSources)
        let tally = Tally()
        unit.onDecision = { w, a, front, rear, stored in
            tally.count(a.decision)
            var line = "  #\(w.seq) lane \(w.lane)  \(w.axles.count) axles \(a.grossKg) kg"
            line += "  \(front?.normalized ?? "plate unknown")\(rear.map { " / \($0.normalized)" } ?? "")"
            if let f = front, f.recognizer != nil {
                let truth = bank?.truth(lane: w.lane, seq: w.seq)
                line += " (recognised \(String(format: "%.2f", f.confidence))\(truth.map { $0 == f.normalized ? ", right" : ", WRONG: it is \($0)" } ?? ""))"
                tally.recognised(right: truth == f.normalized)
            } else if front == nil, let truth = bank?.truth(lane: w.lane, seq: w.seq) {
                line += " (recogniser unsure: it is \(truth))"
                tally.recognised(right: nil)
            }
            line += "  → \(a.decision.rawValue)"
            if let kg = a.overloadKg, a.decision == .overload { line += " +\(kg) kg over \(a.limit?.kg ?? 0)" }
            if !a.reasons.isEmpty && a.decision != .overload { line += " (\(a.reasons.joined(separator: "; ")))" }
            if let s = stored { line += "  record \(s.seq) (\((try? unit.store.images(of: s.seq).count) ?? 0) images)" }
            print(line)
        }
        print("== unit \(config.station.deviceID) at \(config.station.code): WIM \(config.wim.transport), \(config.cameras.count) replay cameras, case system \(scheme)://127.0.0.1:\(receiverPort)")
        print("   station configuration: \(configPath)")
        let traffic = Traffic(unit: unit, sim: sim, profile: profile, vehicles: vehicles, rate: rate, seed: seed, tally: tally, bank: bank, pki: pki, token: token)
        try await UnitRunner.run(unit: unit, logger: log, extra: [traffic], onTLSRunning: { traffic.httpPort.set($0) })

        // Summary and verification.
        let records = try unit.store.records()
        let unacked = try unit.store.unacknowledgedCount()
        print("== \(vehicles) vehicles: " + Decision.allCases.map { "\($0.rawValue) \(tally.value($0))" }.joined(separator: ", "))
        print("   \(records.count) signed records in \(dir)/evidence, \(records.count - unacked) acknowledged by the case system, \(unacked) waiting")
        print("   metrics: weighings \(Int(unit.metrics.value("weighpoint_weighings_total") ?? 0)), plate reads \(Int(unit.metrics.value("weighpoint_plate_reads_total") ?? 0)), association misses \(Int(unit.metrics.value("weighpoint_association_misses_total") ?? 0))")
        if bank != nil {
            let (right, wrong, unsure) = tally.recognition
            print("   built-in recogniser on front-1: \(right) read right, \(wrong) read wrong, \(unsure) below the threshold (plate unknown, candidates in the record)")
        }
        var failed = false
        for d in [dir + "/evidence"] + ((try? fm.contentsOfDirectory(atPath: dir + "/case-system/devices")) ?? []).map({ dir + "/case-system/devices/" + $0 }) {
            let problems = EvidenceStore.verifyDirectory(d)
            if problems.isEmpty { print("   verify \(d): OK") } else {
                failed = true
                for p in problems { print("   verify \(d): FAIL \(p)") }
            }
        }
        if tally.total != vehicles {
            print("   only \(tally.total) of \(vehicles) vehicles were decided")
            failed = true
        }
        if failed { throw ExitCode(1) }
    }

    static func findImages() -> String? {
        let candidates = [
            FileManager.default.currentDirectoryPath + "/Images",
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Images").standardized.path,
        ]
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }

    static func stationTOML(wimPort: Int, images: String, data: String, key: String, caseURL: String, tls: String, pki: String, token: String, recognizer: Bool = false) -> String {
        let plates = recognizer
            ? "plates = \"recognizer\"          # read by the built-in recogniser\nrecognizer_frames = 4\n"
            : "plates = \"pushed\"              # by the ANPR camera, with its client certificate\ncredentials = [\"subject:CN=anpr-front-1\"]\n"
        return """
        # Generated by `weighpoint demo`: a two-lane station on loopback simulators.
        [station]
        code = "DEMO-G15-K1234"
        device_id = "\(Self.deviceID)"
        site_type = "fixed"
        name = "演示治超站"
        road = "G15"
        stake = "K1234+500"
        direction = "northbound"

        [[lanes]]
        number = 1
        [[lanes]]
        number = 2

        [wim]
        profile = "generic-wim-v1"
        transport = "tcp://127.0.0.1:\(wimPort)"
        model = "simulator"
        serial = "SIM-0001"
        accuracy_class = "5"

        [[cameras]]
        id = "front-1"
        lane = 1
        role = "front"
        distance_m = 12.0
        replay = "\(images)"
        replay_fps = 25
        \(plates)
        [[cameras]]
        id = "rear-1"
        lane = 1
        role = "rear"
        distance_m = 2.0
        replay = "\(images)"
        replay_fps = 25

        [[cameras]]
        id = "front-2"
        lane = 2
        role = "front"
        distance_m = 12.0
        replay = "\(images)"
        replay_fps = 25
        plates = "pushed"              # by the ANPR camera, with a bearer token
        credentials = ["\(PushCredential.configured(token: token))"]

        [http]
        listen = "127.0.0.1:0"         # health and metrics
        tls_listen = "127.0.0.1:0"     # pushed plate reads, authenticated
        tls_certificate = "\(pki)/server.pem"
        tls_key = "\(pki)/server.key"
        tls_client_ca = "\(pki)/ca.pem"

        [rules]
        tolerance_percent = 5
        match_window_ms = 800

        [storage]
        data = "\(data)"
        min_free_mb = 64

        [signing]
        key = "\(key)"

        [case_system]
        url = "\(caseURL)"
        \(tls)
        """
    }
}

/// The demo's traffic: each vehicle goes to the WIM simulator, and its plate read is posted to
/// the unit's HTTP endpoint at the front camera's expected time (one in ten is not read, one in
/// ten is read with an OCR look-alike). Returns when every vehicle is decided and delivered,
/// which shuts the unit down.
final class Traffic: Service, @unchecked Sendable {
    let unit: StationUnit
    let sim: WIMSimulator
    let profile: WIMProfile
    let vehicles: Int
    let rate: Double
    let seed: UInt64
    let tally: Tally
    let httpPort = PortBox()

    let bank: PlateBank?
    let pki: String
    let token: String

    init(unit: StationUnit, sim: WIMSimulator, profile: WIMProfile, vehicles: Int, rate: Double, seed: UInt64, tally: Tally, bank: PlateBank?, pki: String, token: String) {
        self.bank = bank
        self.pki = pki
        self.token = token
        self.unit = unit
        self.sim = sim
        self.profile = profile
        self.vehicles = vehicles
        self.rate = rate
        self.seed = seed
        self.tally = tally
    }

    func run() async throws {
        let port = try await httpPort.wait()
        // Lane 1's camera with its client certificate, lane 2's with its token; both trust the
        // unit's certificate through the demo CA.
        var certified = TLSConfiguration.makeClientConfiguration()
        certified.trustRoots = .file(pki + "/ca.pem")
        certified.certificateChain = try NIOSSLCertificate.fromPEMFile(pki + "/anpr-front-1.pem").map { .certificate($0) }
        certified.privateKey = .privateKey(try NIOSSLPrivateKey(file: pki + "/anpr-front-1.key", format: .pem))
        var plain = TLSConfiguration.makeClientConfiguration()
        plain.trustRoots = .file(pki + "/ca.pem")
        let withCertificate = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: certified))
        let withToken = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: plain))
        var gen = TrafficGenerator(seed: seed, lanes: 2, overloadShare: 0.35, flaggedShare: 0.1)
        var plates = SyntheticPlates(seed: seed)
        var rng = SplitMix64(seed: seed ^ 0x5eed)
        var posts: [Task<Void, Never>] = []
        var lastShown: [Int: Timestamp] = [:]
        for _ in 0..<vehicles {
            var rec = gen.vehicle(at: ClockState.now())
            // Vehicles in one lane pass a camera one after the other, at least 1.5 s apart
            // (the generator's speeds would otherwise let a fast truck overtake a slow one in
            // its lane): hold this one back until then.
            if let cam = unit.config.cameras.first(where: { $0.lane == rec.lane && $0.plates == .recognizer }), let last = lastShown[rec.lane],
                let at = cam.camera.expectedTime(of: rec.weighing(profile)), at.microseconds < last.microseconds + 1_500_000
            {
                try? await Task.sleep(for: .microseconds(last.microseconds + 1_500_000 - at.microseconds))
                rec.time = ClockState.now()
            }
            if let cam = unit.config.cameras.first(where: { $0.lane == rec.lane && $0.plates == .recognizer }) {
                lastShown[rec.lane] = cam.camera.expectedTime(of: rec.weighing(profile))
            }
            sim.enqueue(rec)
            let w = rec.weighing(profile)
            let roll = Int.random(in: 0..<10, using: &rng)
            var text = plates.plate()
            while text.hasSuffix("挂") { text = plates.plate() }  // a front camera reads the tractor
            if roll == 1 { text = String(text.prefix(3)) + String(text.dropFirst(3).map { $0 == "8" ? "B" : $0 == "0" ? "D" : $0 }) }
            for cam in unit.config.cameras where cam.lane == w.lane && cam.role == .front && cam.plates == .recognizer {
                // The vehicle passes the camera: a sequence of its plate at the expected time.
                guard let at = cam.camera.expectedTime(of: w), let bank, let replay = unit.frameSource(cam.id) as? ReplayCamera else { continue }
                replay.cue(bank.show(lane: w.lane, seq: w.seq), at: at)
            }
            for cam in unit.config.cameras where cam.lane == w.lane && cam.role == .front && cam.plates == .pushed && roll != 0 {
                guard let at = cam.camera.expectedTime(of: w) else { continue }
                let read: JSONObject = [
                    "camera": .string(cam.id), "time": .string(at.rfc3339(fractionDigits: 3)), "plate": .string(text),
                    "color": .string("yellow"), "confidence": .double(0.9),
                ]
                let body = JSONValue.object(read).text
                let byToken = cam.credentials.contains { !$0.needsCertificate }
                let client = byToken ? withToken : withCertificate
                let token = self.token
                posts.append(Task {
                    let wait = at.microseconds - ClockState.now().microseconds
                    if wait > 0 { try? await Task.sleep(for: .microseconds(wait)) }
                    var req = HTTPClientRequest(url: "https://127.0.0.1:\(port)/v1/reads")
                    req.method = .POST
                    if byToken { req.headers.add(name: "Authorization", value: "Bearer \(token)") }
                    req.body = .bytes(ByteBuffer(string: body))
                    _ = try? await client.execute(req, timeout: .seconds(5))
                })
            }
            try? await Task.sleep(for: .milliseconds(Int(1000 / rate)))
        }
        for p in posts { await p.value }
        try? await withCertificate.shutdown()
        try? await withToken.shutdown()
        // Wait until every vehicle is decided and every record acknowledged (at most 60 s).
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if tally.total >= vehicles, (try? unit.store.unacknowledgedCount()) == 0 { break }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
}

/// Frame sequences of labelled passing plates (Scripts/make-plate-images), handed out one per
/// vehicle, remembering which vehicle got which plate.
final class PlateBank: @unchecked Sendable {
    private let sequences: [(plate: String, frames: [[UInt8]])]
    private let lock = NSLock()
    private var next = 0
    private var given: [String: String] = [:]

    init(directory: String) throws {
        var plates: [String: String] = [:]
        let text = try String(contentsOfFile: directory + "/labels.jsonl", encoding: .utf8)
        for line in text.split(separator: "\n") {
            guard let v = parseJSON(Array(line.utf8)), let s = v["sequence"]?.stringValue, let p = v["plate"]?.stringValue else { continue }
            plates[s] = p
        }
        sequences = try plates.keys.sorted().map { (plates[$0]!, try ReplayCamera.load(directory: directory + "/" + $0)) }
        guard !sequences.isEmpty else { throw ValidationError("\(directory): no sequences in labels.jsonl (Scripts/make-plate-images --sequences N)") }
    }

    func show(lane: Int, seq: UInt64) -> [[UInt8]] {
        lock.withLock {
            let s = sequences[next % sequences.count]
            next += 1
            given["\(lane)/\(seq)"] = s.plate
            return s.frames
        }
    }

    func truth(lane: Int, seq: UInt64) -> String? { lock.withLock { given["\(lane)/\(seq)"] } }
}

/// Decisions counted by kind.
final class Tally: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [Decision: Int] = [:]
    private var recognitionCounts = (right: 0, wrong: 0, unsure: 0)
    /// A recogniser read that was right or wrong, or nil: below the threshold.
    func recognised(right: Bool?) {
        lock.withLock {
            switch right {
            case true?: recognitionCounts.right += 1
            case false?: recognitionCounts.wrong += 1
            case nil: recognitionCounts.unsure += 1
            }
        }
    }
    var recognition: (Int, Int, Int) { lock.withLock { recognitionCounts } }
    func count(_ d: Decision) { lock.withLock { counts[d, default: 0] += 1 } }
    func value(_ d: Decision) -> Int { lock.withLock { counts[d] ?? 0 } }
    var total: Int { lock.withLock { counts.values.reduce(0, +) } }
}

/// A port learned once a server is listening.
final class PortBox: @unchecked Sendable {
    private let lock = NSLock()
    private var port: Int?
    func set(_ p: Int) { lock.withLock { port = p } }
    func wait() async throws -> Int {
        for _ in 0..<500 {
            if let p = lock.withLock({ port }) { return p }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw ValidationError("a server did not start listening within 5 s")
    }
}

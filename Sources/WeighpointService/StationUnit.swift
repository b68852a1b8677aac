import Foundation
import Logging
import WeighpointCapture
import WeighpointConsole
import WeighpointCore
import WeighpointEvidence
import WeighpointModbus
import Prometheus
import WeighpointUplink

/// The unit's metrics in a swift-prometheus registry (rendered at `GET /metrics`), with the
/// current values also kept here for the demo's summary and the benchmark.
public final class UnitMetrics: @unchecked Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let lock = NSLock()
    private var values: [String: Double] = [:]
    private var help: [String: String] = [:]
    private var counters: [String: Counter] = [:]
    private var gauges: [String: Gauge] = [:]
    private var commitTimes: DurationHistogram?

    public init() {}

    /// The help text of a metric; give it before the metric's first value.
    public func describe(_ name: String, _ text: String) { lock.withLock { help[name] = text } }

    /// `name{k="v",…}`: the key of a series here, as it appears in the exposition.
    public static func series(_ name: String, _ labels: [(String, String)] = []) -> String {
        labels.isEmpty ? name : name + "{" + labels.map { "\($0.0)=\"\($0.1)\"" }.joined(separator: ",") + "}"
    }

    public func add(_ name: String, _ labels: [(String, String)] = [], _ v: Double = 1) {
        let k = Self.series(name, labels)
        lock.withLock {
            let c = counters[k] ?? registry.makeCounter(name: name, labels: labels, help: help[name] ?? "")
            counters[k] = c
            if v == v.rounded() { c.increment(by: Int64(v)) } else { c.increment(by: v) }  // counts print as integers
            values[k, default: 0] += v
        }
    }

    /// Raises a counter to `total`, for counts kept elsewhere (a ring's frame counts).
    public func raise(_ name: String, _ labels: [(String, String)] = [], to total: Double) {
        let delta = total - (lock.withLock { values[Self.series(name, labels)] } ?? 0)
        if delta > 0 { add(name, labels, delta) }
    }

    public func set(_ name: String, _ labels: [(String, String)] = [], _ v: Double) {
        let k = Self.series(name, labels)
        lock.withLock {
            let g = gauges[k] ?? registry.makeGauge(name: name, labels: labels, help: help[name] ?? "")
            gauges[k] = g
            g.set(v)
            values[k] = v
        }
    }

    /// One record commit (images written and fsynced, row committed).
    public func observeCommit(_ d: Duration) {
        lock.withLock {
            let h = commitTimes ?? registry.makeDurationHistogram(
                name: "weighpoint_store_commit_seconds",
                buckets: [.milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(20), .milliseconds(50), .milliseconds(100), .milliseconds(500), .seconds(2)],
                help: "Time to commit a record with its images, fsynced.")
            commitTimes = h
            h.record(d)
            values["weighpoint_store_commit_seconds_sum", default: 0] += Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
            values["weighpoint_store_commit_seconds_count", default: 0] += 1
        }
    }

    /// The current value of a series (`series(name, labels)`).
    public func value(_ series: String) -> Double? { lock.withLock { values[series] } }

    /// The Prometheus text exposition.
    public func render() -> String { registry.emitToString() }
}

/// Plate reads waiting for their weighings: kept for as long as a weighing could still claim them.
final class PlateReadBuffer: @unchecked Sendable {
    private let lock = NSLock()
    private var reads: [PlateRead] = []

    func add(_ r: [PlateRead]) { lock.withLock { reads += r } }
    var all: [PlateRead] { lock.withLock { reads } }
    func prune(before t: Timestamp) { lock.withLock { reads.removeAll { $0.time < t } } }
    /// Reads given to a weighing are spent: a later weighing must not take them again.
    func remove(_ used: Set<PlateRead>) { lock.withLock { reads.removeAll { used.contains($0) } } }
}

/// The unit: the WIM driver, the cameras and their rings, plate reads, the decision core and the
/// evidence store, wired as in DESIGN.md. Weighings wait until every camera's expected read time
/// plus the match window has passed, are then associated jointly with the reads at hand, assessed,
/// and every decision except `ok` becomes a signed record with its evidence frames. A camera that
/// is down or has no frame near its expected time is named in the record (`evidence_missing`).
public final class StationUnit: @unchecked Sendable {
    public let config: StationConfig
    public let store: EvidenceStore
    public let metrics = UnitMetrics()
    /// The calibration in force: applied to every weighing as it arrives from the controller.
    public let calibration: CalibrationKeeper
    /// Weighings and decisions as they happen, for the technician console.
    public let feed = LiveFeed()
    public let software: SoftwareIdentity
    public let startedAt = ClockState.now()
    private var lastWeighing: (seq: UInt64, time: Timestamp)?
    let log: Logger
    let associator: Associator
    let assessor: Assessor
    /// Watch lists by their configured name; each reloads in the background when its file changes.
    let watchLists: [(name: String, list: WatchedPlateList)]
    /// The delivery client, when a case system is configured (its alarms show in health and metrics).
    public var uplink: Uplink?
    let reads = PlateReadBuffer()
    /// The built-in recogniser, when a camera reads plates itself.
    let recognition: UnitPlateRecognition?
    private let rings: [String: FrameRing]
    private var cameraServices: [String: CameraService] = [:]
    private var replays: [String: ReplayCamera] = [:]
    private var driver: WIMDriver?
    private let lock = NSLock()
    private var pending: [Weighing] = []
    /// What the unit knows of a pending weighing beside the weighing itself.
    struct Arrival {
        var receivedAt: Timestamp
        /// Its journal entry (EvidenceStore `journalWeighing`), settled when it is decided.
        var journalID: Int64?
        /// Taken over from before a stop: its frames and reads were not kept.
        var takenOver = false
    }
    /// By controller sequence, for each pending weighing.
    private var arrivals: [UInt64: Arrival] = [:]
    private var wimState = "not started"
    private let encoders: [String: JPEGEncoder]
    private let pictureRenderer: TextRenderer?
    private let pictureProblem: String?
    private let pictureEncoder: JPEGEncoder
    /// Largest expected-time offset of any camera at the slowest plausible pass, µs: how long a
    /// weighing without a usable speed waits for its reads.
    private let maxOffsetMicroseconds: Int64
    /// Called after each record is durable: when its weighing arrived from the controller, when
    /// it became decidable (every read could have arrived), and when the record was durable.
    public var onRecordTiming: @Sendable (_ received: Timestamp, _ due: Timestamp, _ durable: Timestamp) -> Void = { _, _, _ in }
    /// Called with each decision as it is made (the demo prints them).
    public var onDecision: @Sendable (Weighing, OverloadAssessment, PlateRead?, PlateRead?, StoredRecord?) -> Void = { _, _, _, _, _ in }

    public init(config: StationConfig, software: SoftwareIdentity, logger: Logger) throws {
        self.config = config
        self.log = logger
        self.software = software
        let key = try SigningKey.load(path: config.signing.key, distinguishingID: config.signing.distinguishingID ?? defaultSM2DistinguishingID)
        let profileBytes = FileManager.default.contents(atPath: config.wim.profile.source).map { [UInt8]($0) } ?? []
        var station: [String: JSONValue] = ["code": .string(config.station.code), "site_type": .string(config.station.siteType)]
        if let v = config.station.name { station["name"] = .string(v) }
        if let v = config.station.road { station["road"] = .string(v) }
        if let v = config.station.stake { station["stake"] = .string(v) }
        if let v = config.station.direction { station["direction"] = .string(v) }
        if let v = config.station.latitude { station["latitude"] = .double(v) }
        if let v = config.station.longitude { station["longitude"] = .double(v) }
        var instrument: [String: JSONValue] = [
            "model": .string(config.wim.model), "serial": .string(config.wim.serial), "accuracy_class": .string(config.wim.accuracyClass),
        ]
        if let v = config.wim.certificate { instrument["certificate"] = .string(v) }
        if let v = config.wim.certificateValidUntil { instrument["certificate_valid_until"] = .string(v) }
        // The controller's register map is part of how loads were read, not of their calibration.
        instrument["register_map"] = .string(config.wim.profile.name)
        instrument["register_map_sha256"] = .string(try Digest.hexDigest(of: profileBytes))
        // Records carry the profile in force with their weighing; this names the one at start.
        let calibrationBytes = FileManager.default.contents(atPath: config.calibrationProfile) ?? Data(CalibrationFile.render(CalibrationProfile()).utf8)
        let identity = UnitIdentity(
            deviceID: config.station.deviceID, station: station, instrument: instrument,
            calibrationProfileSHA256: try Digest.hexDigest(of: calibrationBytes), softwareVersion: software.version, softwareSHA256: software.executableSHA256)
        store = try EvidenceStore(directory: config.storage.data, key: key, identity: identity, minimumFreeBytes: Int64(config.storage.minFreeMB) << 20)
        for p in store.startupProblems { logger.warning("store startup check", metadata: ["problem": "\(p)"]) }
        calibration = try CalibrationKeeper(path: config.calibrationProfile, store: store, lanes: config.lanes.map(\.number), logger: logger)

        associator = Associator(cameras: config.cameras.map(\.camera), windowMilliseconds: Int64(config.rules.matchWindowMs))
        var permits: [Permit] = []
        if let file = config.rules.permitsFile { permits = try PermitFile.read(file) }
        assessor = Assessor(rules: AssessmentRules(tolerance: config.rules.tolerance), permits: PermitBook(permits))
        watchLists = try config.rules.watchLists.map { wl in
            (wl.name, try WatchedPlateList(path: wl.file) { count, problems in
                logger.info("watch list loaded", metadata: ["list": "\(wl.name)", "plates": "\(count)", "problems": "\(problems.count)"])
            })
        }
        var rings: [String: FrameRing] = [:]
        var encoders: [String: JPEGEncoder] = [:]
        for c in config.cameras {
            let window = Int64((c.preWindowS + c.postWindowS) * 1_000_000)
            let slots = max(2, Int((c.preWindowS + c.postWindowS) * Double(c.fps)) + 2)
            let frameBytes: Int
            if case .device = c.source { frameBytes = c.width * c.height * (c.formats.first == .rgb24 ? 3 : 2) } else { frameBytes = 64 << 10 }
            rings[c.id] = FrameRing(camera: c.id, slots: slots, windowMicroseconds: window, frameBytes: frameBytes)
            // Raw 1080p frames in a 6 s window at 25 fps are 600 MB: say what the ring may hold.
            logger.info("frame ring", metadata: ["camera": "\(c.id)", "slots": "\(slots)", "reserved_mb": "\(slots * frameBytes >> 20)"])
            encoders[c.id] = try JPEGEncoder(quality: c.jpegQuality)
        }
        self.rings = rings
        self.encoders = encoders
        if let rz = config.recognizer, config.cameras.contains(where: { $0.plates == .recognizer }) {
            recognition = try UnitPlateRecognition(settings: rz, metrics: metrics, logger: logger)
        } else {
            recognition = nil
        }
        pictureEncoder = try JPEGEncoder(quality: 85)
        do {
            let r = try TextRenderer()
            pictureRenderer = r
            pictureProblem = nil
            logger.info("evidence picture font", metadata: ["font": "\(r.fontPath)"])
        } catch {
            pictureRenderer = nil
            pictureProblem = "no composite picture: \(error)"
            logger.error("evidence picture", metadata: ["problem": "\(error)"])
        }
        maxOffsetMicroseconds = Int64(config.cameras.map { c -> Double in
            // Expected time is t + d/v; at 5 km/h (the slowest plausible pass) over d metres.
            abs(c.distanceM) / (5 / 3.6) * 1_000_000 + (c.role == .rear ? 25 / (5 / 3.6) * 1_000_000 : 0)
        }.max() ?? 0)
        describeMetrics()
    }

    private func describeMetrics() {
        metrics.describe("weighpoint_weighings_total", "Weighings received from the WIM controller.")
        metrics.describe("weighpoint_decisions_total", "Decisions by kind.")
        metrics.describe("weighpoint_association_misses_total", "Weighings for which a camera of their lane gave no plate read.")
        metrics.describe("weighpoint_frames_captured_total", "Frames pushed into each camera's ring.")
        metrics.describe("weighpoint_frames_dropped_total", "Frames overwritten in the ring before use, per camera.")
        metrics.describe("weighpoint_records_total", "Signed records committed.")
        metrics.describe("weighpoint_delivery_backlog", "Records not yet acknowledged by the case system.")
        metrics.describe("weighpoint_delivery_oldest_age_seconds", "Age of the oldest unacknowledged record.")
        metrics.describe("weighpoint_alarm", "1 while an alarm is raised.")
        metrics.describe("weighpoint_wim_gaps_total", "Controller records never seen (sequence gaps).")
        metrics.describe("weighpoint_wim_sequence_resets_total", "Times the controller's numbering went back (it restarted or its counter wrapped).")
        metrics.describe("weighpoint_plate_reads_total", "Plate reads received.")
    }

    // MARK: start and stop

    /// Starts the cameras, the recogniser and the WIM driver.
    public func start() throws {
        recognition?.start { [weak self] read in self?.addReads([read]) }
        for c in config.cameras {
            let ring = rings[c.id]!
            switch c.source {
            case .replay(let dir, let fps):
                let r = try ReplayCamera(directory: dir, framesPerSecond: fps, ring: ring)
                r.start()
                lock.withLock { replays[c.id] = r }
            case .device(let path):
                let log = self.log
                let s = CameraService(device: path, ring: ring, width: c.width, height: c.height, preferred: c.formats, framesPerSecond: c.fps) { event in
                    log.notice("camera", metadata: ["camera": "\(c.id)", "event": "\(event)"])
                }
                s.start()
                cameraServices[c.id] = s
            }
        }
        var settings = WIMLinkSettings(transport: config.wim.transport, profile: config.wim.profile, unitId: config.wim.unitID)
        settings.pollIntervalMs = config.wim.pollIntervalMs
        settings.responseTimeoutMs = config.wim.responseTimeoutMs
        let profile = config.wim.profile
        var resume = resumeSequence()
        // Weighings acknowledged to the controller but not decided when the unit last stopped
        // (killed, power cut): decided now, from their journalled record blocks.
        let carried = takeOverJournal(profile)
        if let newest = carried.max() { resume = max(resume ?? 0, newest) }
        let d = WIMDriver(settings, lastSequence: resume) { [weak self] event in self?.handle(event, profile: profile) }
        driver = d
        d.start()
        log.info("unit started", metadata: ["device_id": "\(config.station.deviceID)", "cameras": "\(config.cameras.count)", "wim": "\(config.wim.transport)"])
    }

    // MARK: controller sequence across restarts

    private var statePath: String { config.storage.data + "/wim.state" }
    private var decidedSequence: UInt64?
    /// Set (under `lock`) when the controller's numbering started again: the decided sequence
    /// kept for a restart follows the new numbering.
    private var numberingRestarted = false

    /// Puts the journalled weighings back among the pending ones; returns their sequences.
    private func takeOverJournal(_ profile: WIMProfile) -> [UInt64] {
        let entries: [(id: Int64, controllerSeq: UInt64, block: String)]
        do {
            entries = try store.journaledWeighings()
        } catch {
            log.critical("weighings journal unreadable: weighings left undecided by the last stop are not decided", metadata: ["error": "\(error)"])
            return []
        }
        var taken: [UInt64] = []
        for e in entries {
            guard let block = (try? WIMTrace.parse(e.block, source: "journal \(e.id)"))?.blocks.first, block.count == profile.blockLength else {
                log.critical("journalled weighing does not decode with the profile in force: kept for inspection", metadata: [
                    "journal_id": "\(e.id)", "controller_seq": "\(e.controllerSeq)", "profile": "\(profile.name)"])
                continue
            }
            let w = calibration.apply(to: profile.decode(block).weighing(profile))
            lock.withLock {
                pending.append(w)
                arrivals[w.seq] = Arrival(receivedAt: ClockState.now(), journalID: e.id, takenOver: true)
            }
            taken.append(w.seq)
        }
        if !entries.isEmpty {
            log.notice("weighings taken over from before a stop", metadata: ["count": "\(taken.count)", "controller_seqs": "\(taken)"])
        }
        return taken
    }

    /// Where the WIM driver resumes: the controller sequence last decided (written at every
    /// decision batch and at shutdown), and never below the newest record's, so a weighing that
    /// was decided before a restart is not read and recorded twice.
    private func resumeSequence() -> UInt64? {
        let fromState = (try? String(contentsOfFile: statePath, encoding: .utf8)).flatMap { UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        let fromRecords = (try? store.lastRecord())??.json?["weighing"]?["controller_seq"]?.intValue.map { UInt64($0) }
        let s = [fromState, fromRecords].compactMap { $0 }.max()
        log.info("wim resume", metadata: ["after_controller_seq": "\(s.map(String.init) ?? "none")"])
        return s
    }

    private func saveDecidedSequence(_ seq: UInt64, sync: Bool) {
        let tmp = statePath + ".tmp"
        guard FileManager.default.createFile(atPath: tmp, contents: Data("\(seq)\n".utf8)) else { return }
        if sync, let h = FileHandle(forUpdatingAtPath: tmp) {
            try? h.synchronize()
            try? h.close()
        }
        _ = rename(tmp, statePath)
    }

    private func handle(_ event: WIMEvent, profile: WIMProfile) {
        switch event {
        case .weighing(let rec):
            let w = calibration.apply(to: rec.weighing(profile))
            // Journalled before the driver acknowledges it (this runs before the acknowledgement):
            // from here a crash leaves the weighing to the next start, not lost.
            let received = ClockState.now()
            var id: Int64?
            do {
                id = try store.journalWeighing(controllerSeq: rec.sequence, block: WIMTrace.line(rec.rawBlock), receivedAt: received)
            } catch {
                log.critical("weighing not journalled: lost if the unit stops before deciding it", metadata: ["controller_seq": "\(w.seq)", "error": "\(error)"])
            }
            lock.withLock {
                pending.append(w)
                arrivals[w.seq] = Arrival(receivedAt: received, journalID: id)
                lastWeighing = (w.seq, w.time)
            }
            metrics.add("weighpoint_weighings_total")
            feed.publish(.weighed(w))
        case .gap(let missing):
            metrics.add("weighpoint_wim_gaps_total", [], Double(missing.count))
            log.error("wim sequence gap", metadata: ["first": "\(missing.lowerBound)", "last": "\(missing.upperBound)"])
        case .duplicate(let seq):
            log.notice("wim duplicate", metadata: ["seq": "\(seq)"])
        case .sequenceReset(let from, let to):
            lock.withLock { numberingRestarted = true }
            metrics.add("weighpoint_wim_sequence_resets_total")
            log.error("wim sequence went back: the controller restarted or its counter wrapped; its records are taken as new", metadata: ["from": "\(from)", "to": "\(to)"])
            // The instrument's numbering is part of every record: an auditor must see where it
            // started again.
            do {
                try store.appendAudit(event: "wim_sequence_reset", who: "weighpointd", parameter: "controller_seq", old: "\(from)", new: "\(to)")
            } catch {
                log.error("wim sequence reset not in the audit trail", metadata: ["error": "\(error)"])
            }
        case .connected(let what):
            lock.withLock { wimState = "connected" }
            log.info("wim connected", metadata: ["link": "\(what)"])
        case .disconnected(let e):
            lock.withLock { wimState = "down: \(e)" }
            log.error("wim down", metadata: ["error": "\(e)"])
        case .retry(let e):
            log.notice("wim retry", metadata: ["error": "\(e)"])
        }
    }

    /// Stops taking weighings; pending ones are decided by the caller's final `decideDue(flush:)`.
    public func stopInput() {
        driver?.stop()
        log.info("wim stopped", metadata: ["pending": "\(lock.withLock { pending.count })"])
    }

    /// A replay camera of the unit, to cue sequences on (the demo, tests).
    public func replayCamera(_ id: String) -> ReplayCamera? { lock.withLock { replays[id] } }

    /// Stops the recogniser's thread (after the last decisions).
    public func stopRecognition() { recognition?.stop() }

    public func stopCameras() {
        for s in cameraServices.values { s.stop() }
        for r in replays.values { r.stop() }
    }

    // MARK: plate reads

    /// Adds reads posted by ANPR cameras or a recogniser.
    public func addReads(_ r: [PlateRead]) {
        reads.add(r)
        metrics.add("weighpoint_plate_reads_total", [], Double(r.count))
    }

    public var cameraIDs: Set<String> { Set(config.cameras.map(\.id)) }

    // MARK: deciding

    /// Decides every weighing whose reads can no longer arrive (all of them when `flush`),
    /// commits a record for each decision but `ok`, and returns how many were decided.
    @discardableResult
    public func decideDue(now: Timestamp = ClockState.now(), flush: Bool = false) async -> Int {
        let window = Int64(config.rules.matchWindowMs) * 1000
        scheduleRecognition(now: now)
        let due: [Weighing] = lock.withLock {
            let ready = pending.filter { flush || (now > deadline(of: $0) && recognitionDone($0, now: now)) }.sorted { ($0.time, $0.seq) < ($1.time, $1.seq) }
            pending.removeAll { w in ready.contains { $0.seq == w.seq } }
            return ready
        }
        guard !due.isEmpty else { return 0 }
        let available = reads.all
        let plates = associator.associate(due, available)
        var assessor = self.assessor
        assessor.rules.tolerance = tolerance
        reads.remove(Set(plates.flatMap { [$0.front, $0.rear].compactMap { $0 } }.map { available[$0] }))
        var settled: [Int64] = []
        for (w, p) in zip(due, plates) {
            let front = p.front.map { available[$0] }
            let rear = p.rear.map { available[$0] }
            let read = [front, rear].compactMap { $0?.normalized }
            let assessment = assessor.assess(w, plates: read)
            let hits = watchLists.flatMap { WatchList(name: $0.name, index: $0.list.index).hits(for: read) }
            metrics.add("weighpoint_decisions_total", [("decision", assessment.decision.rawValue)])
            let laneCams = config.cameras.filter { $0.lane == w.lane && $0.role != .side }
            if (laneCams.contains { $0.role == .front } && front == nil) || (laneCams.contains { $0.role == .rear } && rear == nil) {
                metrics.add("weighpoint_association_misses_total")
            }
            var stored: StoredRecord?
            let arrival = lock.withLock { arrivals.removeValue(forKey: w.seq) }
            let recognized = recognition?.take(w.seq) ?? [:]
            if assessment.decision != .ok {
                // The record and the end of the weighing's journal entry are one transaction. A
                // record the store refused leaves the entry for the next start.
                stored = await commit(w, assessment, front: front, rear: rear, hits: hits, recognized: recognized,
                                      settling: arrival?.journalID, restarted: arrival?.takenOver ?? false)
                if stored != nil { onRecordTiming(arrival?.receivedAt ?? now, deadline(of: w), ClockState.now()) }
            } else if let journalID = arrival?.journalID {
                settled.append(journalID)
            }
            log.info("decision", metadata: [
                "controller_seq": "\(w.seq)", "lane": "\(w.lane)", "decision": "\(assessment.decision.rawValue)",
                "plate": "\(front?.normalized ?? "unknown")", "gross_kg": "\(assessment.grossKg)", "record": "\(stored.map { String($0.seq) } ?? "-")",
            ])
            onDecision(w, assessment, front, rear, stored)
            feed.publish(.decided(w, assessment, plate: front?.normalized, record: stored?.seq))
        }
        do {
            try store.settleJournal(settled)
        } catch {
            log.error("decided weighings still journalled: decided again at the next start", metadata: ["error": "\(error)"])
        }
        // Weighings are decided in time order, not always in sequence order: the state is the
        // highest sequence below which nothing is pending.
        let stillPending = lock.withLock { pending.map(\.seq).min() }
        let decidedUpTo = due.map(\.seq).filter { s in stillPending.map { s < $0 } ?? true }.max()
        if lock.withLock({ () -> Bool in defer { numberingRestarted = false }; return numberingRestarted }) { decidedSequence = nil }
        if let decidedUpTo, decidedUpTo > (decidedSequence ?? 0) {
            decidedSequence = decidedUpTo
            saveDecidedSequence(decidedUpTo, sync: flush)
        }
        // A read older than every weighing still waiting (less the window) can match nothing now.
        let oldestPending = lock.withLock { pending.map(\.time).min() } ?? now
        reads.prune(before: Timestamp(microseconds: min(oldestPending.microseconds, now.microseconds) - window - 60_000_000))
        return due.count
    }

    /// Hands each recogniser camera's frames around its expected time to the recogniser once
    /// they are in the ring (the expected time plus the frame tolerance, at most 400 ms, has
    /// passed).
    private func scheduleRecognition(now: Timestamp) {
        guard let recognition else { return }
        let waiting = lock.withLock { pending }
        for w in waiting {
            for c in config.cameras where c.lane == w.lane && c.plates == .recognizer && !recognition.isScheduled(w.seq, c.id) {
                let expected = c.camera.expectedTime(of: w) ?? w.time
                guard now.microseconds - expected.microseconds > Int64(min(c.toleranceMs, 400)) * 1000, let ring = rings[c.id] else { continue }
                let tolerance = Int64(c.toleranceMs) * 1000
                let frames = ring.frames(from: expected.adding(microseconds: -tolerance), to: expected.adding(microseconds: tolerance))
                    .sorted { abs($0.time.microseconds(to: expected)) < abs($1.time.microseconds(to: expected)) }.prefix(c.recognizerFrames)
                recognition.submit(.init(seq: w.seq, camera: c, frames: Array(frames)))
            }
        }
    }

    /// Whether the recogniser has answered for every recogniser camera of the weighing's lane;
    /// after 10 s past the deadline the weighing is decided without (the recogniser is behind).
    private func recognitionDone(_ w: Weighing, now: Timestamp) -> Bool {
        guard let recognition else { return true }
        let cams = config.cameras.filter { $0.lane == w.lane && $0.plates == .recognizer }.map(\.id)
        if cams.isEmpty || recognition.isFinished(w.seq, cameras: cams) { return true }
        return now.microseconds - deadline(of: w).microseconds > 10_000_000
    }

    /// The tolerance in force: the calibration profile's, else the station configuration's.
    public var tolerance: Tolerance { calibration.snapshot.profile.tolerance ?? config.rules.tolerance }

    /// The last weighing received from the controller.
    public var latestWeighing: (seq: UInt64, time: Timestamp)? { lock.withLock { lastWeighing } }

    /// When no read for `w` can still arrive: the latest expected time of its lane's cameras
    /// (t + d/v, rear cameras add the length) plus the match window; a weighing without a usable
    /// speed waits the slowest plausible pass.
    private func deadline(of w: Weighing) -> Timestamp {
        let window = Int64(config.rules.matchWindowMs) * 1000
        var latest = w.time
        for c in config.cameras where c.lane == w.lane {
            latest = max(latest, c.camera.expectedTime(of: w) ?? w.time.adding(microseconds: maxOffsetMicroseconds))
        }
        return latest.adding(microseconds: window)
    }

    private func commit(_ w: Weighing, _ a: OverloadAssessment, front: PlateRead?, rear: PlateRead?, hits: [WatchHit], recognized: [String: UnitPlateRecognition.Outcome],
                        settling journalID: Int64?, restarted: Bool) async -> StoredRecord? {
        var content = RecordContent.make(weighing: w, assessment: a, front: front, rear: rear, watchHits: hits)
        // A plate the recogniser could not read surely enough: what it saw, and the plate's
        // region of the frame it read best, for a person to check.
        var images: [EvidenceImage] = []
        let unsure = recognized.sorted { $0.key < $1.key }.filter { $0.value.candidates != nil }
        var reviewCrops: [EvidenceImage] = []
        if !unsure.isEmpty && (front == nil || rear == nil) {
            content["plate_candidates"] = .array(unsure.compactMap { $0.value.candidates })
            reviewCrops = unsure.compactMap { camera, o in
                o.crop.map { EvidenceImage(role: "plate_crop", camera: camera, capturedAt: $0.at, bytes: $0.jpeg) }
            }
        }
        var missing: [JSONValue] = []
        func lost(_ camera: String, _ role: String, _ reason: String) {
            missing.append(.object(["camera": .string(camera), "role": .string(role), "reason": .string(reason)]))
        }
        for c in config.cameras where c.lane == w.lane {
            guard let ring = rings[c.id] else { continue }
            if restarted {
                lost(c.id, c.role.rawValue, "the unit stopped before this weighing was decided and its frames were not kept")
                continue
            }
            let expected = c.camera.expectedTime(of: w) ?? w.time
            if let s = cameraServices[c.id], s.state.hasPrefix("down") {
                lost(c.id, c.role.rawValue, "camera \(s.state)")
                continue
            }
            let frame = await ring.evidence(at: expected, toleranceMicroseconds: Int64(c.toleranceMs) * 1000, timeoutMilliseconds: Int(c.postWindowS * 1000))
            guard let frame else {
                lost(c.id, c.role.rawValue, "no frame within \(c.toleranceMs) ms of \(expected)")
                continue
            }
            do {
                let jpeg = frame.format == .mjpeg ? frame.bytes : try encoders[c.id]!.encode(frame)
                images.append(EvidenceImage(role: c.role.rawValue, camera: c.id, capturedAt: frame.time, bytes: jpeg))
            } catch {
                lost(c.id, c.role.rawValue, "JPEG encoding failed: \(error)")
            }
        }
        // The plate crops of the reads used, from the recogniser.
        for r in [front, rear].compactMap({ $0 }) {
            if let crop = recognition?.crop(for: r) { images.append(EvidenceImage(role: "plate_crop", camera: r.camera, capturedAt: r.time, bytes: crop)) }
        }
        images += reviewCrops
        // The picture a person looks at, itself evidence (hashed into the record like the frames).
        if let renderer = pictureRenderer {
            let tiles = config.cameras.filter { $0.lane == w.lane }.prefix(4).map { c in
                EvidencePicture.Tile(label: "\(Self.roleLabel(c.role)) \(c.id)", jpeg: images.first { $0.camera == c.id }?.bytes)
            }
            do {
                let jpeg = try EvidencePicture.compose(tiles: Array(tiles), lines: pictureLines(w, a, front: front, rear: rear), renderer: renderer, encoder: pictureEncoder)
                images.append(EvidenceImage(role: "composite", camera: "unit", capturedAt: ClockState.now(), bytes: jpeg))
            } catch {
                lost("unit", "composite", "composite picture failed: \(error)")
            }
        } else {
            lost("unit", "composite", pictureProblem ?? "no font")
        }
        content["evidence_missing"] = .array(missing)
        let started = ContinuousClock.now
        do {
            let r = try store.commit(content, images: images, settling: journalID.map { [$0] } ?? [])
            let d = ContinuousClock.now - started
            metrics.add("weighpoint_records_total")
            metrics.observeCommit(d)
            return r
        } catch {
            metrics.set("weighpoint_alarm", [("alarm", "store_error")], 1)
            log.critical("record not stored", metadata: ["controller_seq": "\(w.seq)", "error": "\(error)"])
            return nil
        }
    }

    static func roleLabel(_ r: CameraRole) -> String {
        switch r {
        case .front: "前 front"
        case .rear: "后 rear"
        case .side: "侧 side"
        }
    }

    static let decisionLabels: [Decision: String] = [
        .overload: "涉嫌超限 suspected overload", .invalid: "无效称重 invalid weighing", .review: "人工复核 review",
        .permitted: "许可通行 permitted", .ok: "未超限 ok",
    ]

    /// The information band: time (UTC and Beijing), station, lane, direction, device, plate,
    /// speed, axles, gross, limit, overload and ratio, decision.
    func pictureLines(_ w: Weighing, _ a: OverloadAssessment, front: PlateRead?, rear: PlateRead?) -> [String] {
        func beijing(_ t: Timestamp) -> String {
            let s = Timestamp(microseconds: t.microseconds + 8 * 3_600_000_000).rfc3339(fractionDigits: 3)
            return String(s.dropLast()).replacingOccurrences(of: "T", with: " ")
        }
        let st = config.station
        let lane = config.lanes.first { $0.number == w.lane }
        var l: [String] = []
        l.append("时间 \(beijing(w.time)) 北京时间   UTC \(w.time.rfc3339(fractionDigits: 3))")
        l.append("站点 \(st.code)\(st.name.map { " \($0)" } ?? "")   \(st.road ?? "") \(st.stake ?? "")   车道 lane \(w.lane)   方向 \(lane?.direction ?? st.direction ?? "-")   设备 \(st.deviceID)")
        let plate = front.map { "\($0.normalized) (\($0.color.rawValue))" } ?? "未识别 unknown"
        l.append("车牌 plate \(plate)\(rear.map { "   挂车 trailer \($0.normalized)" } ?? "")   车速 \(String(format: "%.1f", w.speedKmh)) km/h   轴数 axles \(w.axles.count)")
        var weights = "总重 gross \(a.grossKg) kg"
        if let limit = a.limit { weights += "   限值 limit \(limit.kg) kg" }
        if let over = a.overloadKg, let r = a.overloadRatio10k, a.decision == .overload { weights += "   超限 over \(over) kg (\(String(format: "%.2f", Double(r) / 100)) %)" }
        weights += "   结论 \(Self.decisionLabels[a.decision] ?? a.decision.rawValue)"
        l.append(weights)
        if !a.reasons.isEmpty { l.append("说明 " + a.reasons.joined(separator: "; ")) }
        return l
    }

    /// Rebuilds any watch list whose file changed (off the decision path; lookups keep using the
    /// old index until the new one is swapped in).
    public func reloadChangedLists() {
        for w in watchLists where w.list.reloadIfChanged() {
            log.info("watch list changed, rebuilding", metadata: ["list": "\(w.name)", "file": "\(w.list.path)"])
        }
    }

    // MARK: health

    /// Refreshes gauges from the parts and returns the health document.
    public func health() -> (healthy: Bool, json: JSONValue) {
        var cams: [String: JSONValue] = [:]
        var degraded: [String] = []
        for c in config.cameras {
            let ring = rings[c.id]!
            let stats = ring.statistics
            metrics.raise("weighpoint_frames_captured_total", [("camera", c.id)], to: Double(stats.pushed))
            metrics.raise("weighpoint_frames_dropped_total", [("camera", c.id)], to: Double(stats.evicted))
            let state = cameraServices[c.id]?.state ?? (replays[c.id] != nil ? "replaying" : "stopped")
            if state.hasPrefix("down") { degraded.append("camera \(c.id)") }
            cams[c.id] = .object(["state": .string(state), "frames": .int(Int64(stats.pushed))])
        }
        let wim = lock.withLock { wimState }
        if !wim.hasPrefix("connected") { degraded.append("wim") }
        // A count and the oldest record only: health is polled, the backlog can be large.
        let backlog = (try? store.unacknowledgedCount()) ?? 0
        metrics.set("weighpoint_delivery_backlog", [], Double(backlog))
        var oldestAge = 0.0
        if backlog > 0, let first = (try? store.unacknowledged(limit: 1))?.first, let t = first.json?["time"]?["utc"]?.stringValue, let ts = Timestamp(rfc3339: t) {
            oldestAge = Double(ClockState.now().microseconds - ts.microseconds) / 1e6
        }
        metrics.set("weighpoint_delivery_oldest_age_seconds", [], oldestAge)
        let refusing = store.refusalReason
        metrics.set("weighpoint_alarm", [("alarm", "store_refusing")], refusing == nil ? 0 : 1)
        let deliveryAlarms = uplink?.alarms ?? []
        metrics.set("weighpoint_alarm", [("alarm", "delivery")], deliveryAlarms.isEmpty ? 0 : 1)
        if !deliveryAlarms.isEmpty { degraded.append("delivery") }
        let healthy = refusing == nil
        let doc: JSONValue = .object([
            "status": .string(!healthy ? "failing" : degraded.isEmpty ? "ok" : "degraded"),
            "device_id": .string(config.station.deviceID), "wim": .string(wim), "cameras": .object(cams),
            "store": .string(refusing.map { "refusing new evidence: \($0)" } ?? "ok"),
            "delivery_backlog": .int(Int64(backlog)), "degraded": .array(degraded.map(JSONValue.string)),
            "pending_weighings": .int(Int64(lock.withLock { pending.count })),
            "alarms": .array(deliveryAlarms.map(JSONValue.string) + (refusing.map { [JSONValue.string("store: \($0)")] } ?? [])),
        ])
        return (healthy, doc)
    }
}

/// A permit file: CSV lines `plate,max_gross_kg,valid_from,valid_until` (RFC 3339 times), `#`
/// comments. A bad line stops start-up with its line number: a permit silently dropped would
/// turn a permitted vehicle into a violation.
public enum PermitFile {
    public static func read(_ path: String) throws(ConfigError) -> [Permit] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(problems: [ConfigProblem(file: path, line: nil, key: "-", message: "cannot read the permit file")])
        }
        var out: [Permit] = []
        var problems: [ConfigProblem] = []
        for (i, raw) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if fields.isEmpty || fields == [""] { continue }
            func bad(_ m: String) { problems.append(ConfigProblem(file: path, line: i + 1, key: "permit", message: m)) }
            guard fields.count == 4 else { bad("expected plate,max_gross_kg,valid_from,valid_until; got \(fields.count) fields"); continue }
            guard (try? Plate(parsing: fields[0])) != nil else { bad("'\(fields[0])' is not a plate"); continue }
            guard let kg = Int(fields[1]), kg > 0, kg < 200_000 else { bad("max_gross_kg '\(fields[1])' is not a mass in kg"); continue }
            guard let from = Timestamp(rfc3339: fields[2]), let until = Timestamp(rfc3339: fields[3]) else { bad("valid_from/valid_until must be RFC 3339 times"); continue }
            guard from < until else { bad("valid_until is not after valid_from"); continue }
            out.append(Permit(plate: fields[0], validFrom: from, validUntil: until, maxGrossKg: kg))
        }
        if !problems.isEmpty { throw ConfigError(problems: problems) }
        return out
    }
}

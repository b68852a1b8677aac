// WeighpointService owns the unit: the station configuration, StationUnit and its parts
// (weighing intake, pending vehicles, recognition, evidence collection, health, metrics), the
// HTTP endpoint, the console host, the service lifecycle and the software identity. It may
// import every library module except WeighpointTesting and WeighpointCaseSink.
import WeighpointCrypto
import Foundation
import Logging
import WeighpointCapture
import WeighpointConsole
import WeighpointCore
import WeighpointEvidence
import WeighpointModbus
import WeighpointSystem
import WeighpointUplink

/// The unit, wired as in DESIGN.md. One vehicle's path through it:
/// 1. **intake** (`WeighingIntake`): the weighing source gives a weighing; the calibration is
///    applied, it is journalled, and it joins the pending vehicles under its journal id;
/// 2. **reads**: plate reads arrive over HTTP or from the built-in recogniser, which is handed
///    the frames around each recogniser camera's expected time;
/// 3. **decision** (Core's `Decider`): once every camera's expected read time plus the match
///    window has passed, the due vehicles are associated jointly with the reads at hand,
///    assessed (permits included) and looked up in the watch lists;
/// 4. **evidence** (`EvidenceCollector`): every decision but `ok` becomes a signed record with
///    its frames, crops and composite picture, committed together with the end of its journal
///    entry; what is missing is named (`evidence_missing`).
/// Health and metrics are read off the parts (`health()`).
public final class StationUnit: @unchecked Sendable {
    public let config: StationConfig
    public let store: EvidenceStore
    public let metrics = UnitMetrics()
    /// The calibration in force: applied to every weighing as it arrives from the controller.
    public let calibration: CalibrationKeeper
    /// Weighings and decisions as they happen, for the technician console.
    public let feed = LiveFeed()
    public let software: SoftwareIdentity
    public let clock: any WallClock
    public let startedAt: Timestamp
    let log: Logger
    let associator: Associator
    let assessor: Assessor
    /// Watch lists by their configured name; each reloads in the background when its file changes.
    let watchLists: [(name: String, list: WatchedPlateList)]
    /// The delivery client, when a case system is configured (its alarms show in health and metrics).
    public var uplink: Uplink?
    let reads: PlateReadBuffer
    /// What pushed reads may be (`POST /v1/reads`): bounded, in time, within each camera's rate.
    public let readIntake: PlateReadIntake
    /// Refused requests, logged at most once a minute per reason and source.
    let refusals: RefusalLog
    let vehicles = PendingVehicles()
    let intake: WeighingIntake
    let cameras: UnitCameras
    let evidence: EvidenceCollector
    /// The built-in recogniser, when a camera reads plates itself.
    let recognition: UnitPlateRecognition?
    /// Largest expected-time offset of any camera at the slowest plausible pass, µs: how long a
    /// weighing without a usable speed waits for its reads.
    private let maxOffsetMicroseconds: Int64
    /// Called after each record is durable: when its weighing arrived from the controller, when
    /// it became decidable (every read could have arrived), and when the record was durable.
    public var onRecordTiming: @Sendable (_ received: Timestamp, _ due: Timestamp, _ durable: Timestamp) -> Void = { _, _, _ in }
    /// Called with each decision as it is made (the demo prints them).
    public var onDecision: @Sendable (Weighing, OverloadAssessment, PlateRead?, PlateRead?, StoredRecord?) -> Void = { _, _, _, _, _ in }

    /// The unit of `config`. By default weighings come from the configured controller and frames
    /// from the configured cameras; tests and the demo give their own `weighings` and `frames`.
    public init(config: StationConfig, software: SoftwareIdentity, logger: Logger, clock: any WallClock = SystemWallClock(),
                weighings: (any WeighingSource)? = nil, frames: FrameSourceFactory? = nil) throws {
        self.config = config
        self.log = logger
        self.software = software
        self.clock = clock
        startedAt = clock.now()
        let key = try SigningKey.load(path: config.signing.key, distinguishingID: config.signing.distinguishingID ?? defaultSM2DistinguishingID)
        store = try EvidenceStore(directory: config.storage.data, key: key, identity: try UnitIdentity(config: config, software: software),
                                  minimumFreeBytes: Int64(config.storage.minFreeMB) << 20)
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
        if frames == nil, let problem = config.replaySourceProblem { throw problem }
        cameras = UnitCameras(config.cameras, factory: frames ?? UnitCameras.devices, logger: logger)
        evidence = try EvidenceCollector(config: config, cameras: cameras, clock: clock, logger: logger)
        if let rz = config.recognizer, config.cameras.contains(where: { $0.plates == .recognizer }) {
            recognition = try UnitPlateRecognition(settings: rz, metrics: metrics, logger: logger)
        } else {
            recognition = nil
        }
        var link = WIMLinkSettings(transport: config.wim.transport, profile: config.wim.profile, unitId: config.wim.unitID)
        link.pollIntervalMs = config.wim.pollIntervalMs
        link.responseTimeoutMs = config.wim.responseTimeoutMs
        intake = WeighingIntake(
            source: weighings ?? ModbusWeighingSource(settings: link), profile: config.wim.profile, store: store, calibration: calibration,
            vehicles: vehicles, clock: clock, metrics: metrics, feed: feed, logger: logger, statePath: config.storage.data + "/wim.state",
            watch: ControllerWatch(ControllerWatch.Settings(
                bounds: config.wim.profile.bounds, lanes: Set(config.lanes.map(\.number)),
                maxClockAheadMicroseconds: Int64(config.wim.maxClockAheadS) * 1_000_000, maxAgeMicroseconds: Int64(config.wim.maxWeighingAgeH) * 3_600_000_000,
                maxResetsPerHour: config.wim.maxSequenceResetsPerHour)))
        maxOffsetMicroseconds = Int64(config.cameras.map { c -> Double in
            // Expected time is t + d/v; at 5 km/h (the slowest plausible pass) over d metres.
            abs(c.distanceM) / (5 / 3.6) * 1_000_000 + (c.role == .rear ? 25 / (5 / 3.6) * 1_000_000 : 0)
        }.max() ?? 0)
        reads = PlateReadBuffer(windowMicroseconds: Int64(config.rules.matchWindowMs) * 1000)
        var readLimits = config.readLimits
        // A read older than this could match no weighing still held (see the prune in decideDue).
        readLimits.maxAgeMicroseconds = maxOffsetMicroseconds + Int64(config.rules.matchWindowMs) * 1000 + 60_000_000
        readIntake = PlateReadIntake(cameras: Set(config.cameras.map(\.id)), limits: readLimits, clock: clock)
        refusals = RefusalLog(logger: logger)
        metrics.describeUnit()
    }

    // MARK: start and stop

    /// Starts the recogniser, the cameras and the weighing intake.
    public func start() throws {
        recognition?.start(
            onRead: { [weak self] read in self?.addReads([read]) },
            onOutcome: { [weak self] id, camera, outcome in self?.vehicles.record(outcome, camera: camera, for: id) })
        try cameras.start()
        try intake.start()
        log.info("unit started", metadata: ["device_id": "\(config.station.deviceID)", "cameras": "\(config.cameras.count)", "wim": "\(config.wim.transport)"])
    }

    /// Stops taking weighings; pending ones are decided by the caller's final `decideDue(flush:)`.
    public func stopInput() { intake.stop() }

    /// Stops the recogniser's thread and the watch lists' rebuild threads (after the last decisions).
    public func stopRecognition() {
        recognition?.stop()
        for w in watchLists { w.list.stop() }
    }

    public func stopCameras() { cameras.stop() }

    /// The running source of camera `id` (the demo cues sequences on its replay cameras).
    public func frameSource(_ id: String) -> (any FrameSource)? { cameras.source(id) }

    /// The frame ring of a camera.
    public func ring(_ id: String) -> FrameRing? { cameras.rings[id] }

    // MARK: plate reads

    /// Adds reads posted by ANPR cameras or a recogniser.
    public func addReads(_ r: [PlateRead]) {
        let copies = reads.add(r)
        metrics.add("weighpoint_plate_reads_total", [], Double(r.count))
        if copies > 0 { metrics.add("weighpoint_plate_read_copies_total", [], Double(copies)) }
    }


    /// Weighings received and not yet decided.
    public var pendingCount: Int { vehicles.count }

    // MARK: deciding

    /// Decides every vehicle whose reads can no longer arrive (all of them when `flush`),
    /// commits a record for each decision but `ok`, and returns how many were decided. Past
    /// `stopBy` (the stop budget at shutdown) it commits nothing more: what is left stays
    /// journalled and is decided at the next start.
    @discardableResult
    public func decideDue(now: Timestamp? = nil, flush: Bool = false, stopBy: ContinuousClock.Instant? = nil) async -> Int {
        let now = now ?? clock.now()
        let window = Int64(config.rules.matchWindowMs) * 1000
        scheduleRecognition(now: now)
        let hold = ControllerWatch.unconfirmedHold
        let due = vehicles.take { v in
            flush || v.atOnce
                || (now > deadline(of: v.weighing) && recognitionDone(v, now: now)
                    && (v.unconfirmedSequence == nil || now.microseconds - v.receivedAt.microseconds > hold))
        }.map { v in
            // Its sequence went back and no record after it showed a new run.
            guard let u = v.unconfirmedSequence else { return v }
            var v = v
            v.weighing.decodeProblems.append(InvalidityReason(
                code: "sequence_unconfirmed",
                detail: "controller sequence \(u.to) came after \(u.from), and no record after it showed whether the controller counts anew"))
            return v
        }
        guard !due.isEmpty else { return 0 }
        var assessor = self.assessor
        assessor.rules.tolerance = tolerance
        let decider = Decider(associator: associator, assessor: assessor, watchLists: watchLists.map { WatchList(name: $0.name, index: $0.list.index) })
        let decisions = decider.decide(due.map(\.weighing), reads: reads.all)
        reads.remove(Set(decisions.flatMap(\.usedReads)))
        var settled: [Int64] = []
        var decided: [PendingVehicle] = []
        for (v, d) in zip(due, decisions) {
            if let stopBy, ContinuousClock.now > stopBy {
                log.warning("stop budget spent: weighings left journalled, decided at the next start", metadata: ["left": "\(due.count - decided.count)"])
                break
            }
            decided.append(v)
            let w = v.weighing
            metrics.add("weighpoint_decisions_total", [("decision", d.assessment.decision.rawValue)])
            let laneCams = config.cameras.filter { $0.lane == w.lane && $0.role != .side }
            if (laneCams.contains { $0.role == .front } && d.front == nil) || (laneCams.contains { $0.role == .rear } && d.rear == nil) {
                metrics.add("weighpoint_association_misses_total")
            }
            var stored: StoredRecord?
            if d.assessment.decision != .ok {
                // The record and the end of the weighing's journal entry are one transaction. A
                // record the store refused leaves the entry for the next start.
                stored = await commit(v, d)
                if stored != nil { onRecordTiming(v.receivedAt, deadline(of: w), clock.now()) }
            } else if let journalID = v.journalID {
                settled.append(journalID)
            }
            log.info("decision", metadata: [
                "controller_seq": "\(w.seq)", "vehicle": "\(v.id)", "lane": "\(w.lane)", "decision": "\(d.assessment.decision.rawValue)",
                "plate": "\(d.front?.normalized ?? "unknown")", "gross_kg": "\(d.assessment.grossKg)", "record": "\(stored.map { String($0.seq) } ?? "-")",
            ])
            onDecision(w, d.assessment, d.front, d.rear, stored)
            feed.publish(.decided(w, d.assessment, plate: d.front?.normalized, record: stored?.seq))
        }
        do {
            try store.settleJournal(settled)
        } catch {
            log.error("decided weighings still journalled: decided again at the next start", metadata: ["error": "\(error)"])
        }
        intake.noteDecided(decided)
        // A read older than every weighing still waiting (less the window) can match nothing now.
        let oldestPending = vehicles.oldestTime ?? now
        reads.prune(before: Timestamp(microseconds: min(oldestPending.microseconds, now.microseconds) - window - 60_000_000))
        return decided.count
    }

    /// Hands each recogniser camera's frames around its expected time to the recogniser once
    /// they are in the ring (the expected time plus the frame tolerance, at most 400 ms, has
    /// passed).
    private func scheduleRecognition(now: Timestamp) {
        guard let recognition else { return }
        for v in vehicles.all {
            let w = v.weighing
            for c in config.cameras where c.lane == w.lane && c.plates == .recognizer && !v.recognitionScheduled.contains(c.id) {
                let expected = c.camera.expectedTime(of: w) ?? w.time
                guard now.microseconds - expected.microseconds > Int64(min(c.toleranceMs, 400)) * 1000, let ring = cameras.rings[c.id] else { continue }
                guard vehicles.markScheduled(v.id, camera: c.id) else { continue }
                let tolerance = Int64(c.toleranceMs) * 1000
                let frames = ring.frames(from: expected.adding(microseconds: -tolerance), to: expected.adding(microseconds: tolerance))
                    .sorted { abs($0.time.microseconds(to: expected)) < abs($1.time.microseconds(to: expected)) }.prefix(c.recognizerFrames)
                if !recognition.submit(.init(vehicle: v.id, seq: w.seq, camera: c, frames: Array(frames))) {
                    // The queue was full: the vehicle has no read from this camera.
                    vehicles.record(.none, camera: c.id, for: v.id)
                }
            }
        }
    }

    /// Whether the recogniser has answered for every recogniser camera of the vehicle's lane;
    /// after 10 s past the deadline it is decided without (the recogniser is behind).
    private func recognitionDone(_ v: PendingVehicle, now: Timestamp) -> Bool {
        guard recognition != nil else { return true }
        let cams = config.cameras.filter { $0.lane == v.weighing.lane && $0.plates == .recognizer }.map(\.id)
        if cams.allSatisfy({ v.recognized[$0] != nil }) { return true }
        return now.microseconds - deadline(of: v.weighing).microseconds > 10_000_000
    }

    /// The tolerance in force: the calibration profile's, else the station configuration's.
    public var tolerance: Tolerance { calibration.snapshot.profile.tolerance ?? config.rules.tolerance }

    /// The last weighing received from the controller.
    public var latestWeighing: (seq: UInt64, time: Timestamp)? { intake.latest }

    /// When no read for `w` can still arrive: the latest expected time of its lane's cameras
    /// (t + d/v, rear cameras add the length) plus the match window; a weighing without a usable
    /// speed waits the slowest plausible pass.
    func deadline(of w: Weighing) -> Timestamp {
        let window = Int64(config.rules.matchWindowMs) * 1000
        var latest = w.time
        for c in config.cameras where c.lane == w.lane {
            latest = max(latest, c.camera.expectedTime(of: w) ?? w.time.adding(microseconds: maxOffsetMicroseconds))
        }
        return latest.adding(microseconds: window)
    }

    private func commit(_ v: PendingVehicle, _ d: VehicleDecision) async -> StoredRecord? {
        var content = RecordContent(weighing: v.weighing, assessment: d.assessment, front: d.front, rear: d.rear, watchHits: d.watchHits)
        let e = await evidence.collect(for: v, d) { [recognition] r in recognition?.crop(for: r) }
        content.plateCandidates = e.plateCandidates
        content.evidenceMissing = e.missing
        let started = ContinuousClock.now
        do {
            let r = try store.commit(content, images: e.images, time: clock.now(), settling: v.journalID.map { [$0] } ?? [])
            metrics.add("weighpoint_records_total")
            metrics.observeCommit(ContinuousClock.now - started)
            return r
        } catch {
            metrics.set("weighpoint_alarm", [("alarm", "store_error")], 1)
            log.critical("record not stored: its weighing stays journalled, decided again when the store takes evidence", metadata: [
                "controller_seq": "\(v.weighing.seq)", "vehicle": "\(v.id)", "error": "\(error)"])
            if let id = v.journalID { refusedLock.withLock { _ = refusedEntries.insert(id) } }
            return nil
        }
    }

    private let refusedLock = NSLock()
    /// Journal entries whose record the store refused (full, failing): decided again when it takes evidence.
    private var refusedEntries: Set<Int64> = []

    /// Every few seconds: evidence refused at the disk's floor is let in again as soon as the
    /// space is back (not only when retention runs), and the weighings whose records were
    /// refused meanwhile are decided again from the journal.
    public func maintainStorage() {
        let wasRefusing = store.refusalReason != nil
        guard store.recheckSpace() else { return }
        if wasRefusing { log.notice("store takes evidence again", metadata: ["free_bytes": "\(store.freeBytes())"]) }
        let ids = refusedLock.withLock { () -> Set<Int64> in
            defer { refusedEntries = [] }
            return refusedEntries
        }
        guard !ids.isEmpty else { return }
        metrics.set("weighpoint_alarm", [("alarm", "store_error")], 0)
        _ = intake.takeOverJournal(only: ids)
    }

    /// Rebuilds any watch list whose file changed (off the decision path; lookups keep using the
    /// old index until the new one is swapped in).
    public func reloadChangedLists() {
        for w in watchLists where w.list.reloadIfChanged() {
            log.info("watch list changed, rebuilding", metadata: ["list": "\(w.name)", "file": "\(w.list.path)"])
        }
    }

    // MARK: health

    /// Refreshes gauges from the parts and returns the unit's health.
    public func health() -> UnitHealth {
        var cams: [String: UnitHealth.Camera] = [:]
        var degraded: [String] = []
        let suspects = readIntake.suspects(at: clock.now())
        for c in config.cameras {
            let stats = cameras.rings[c.id]!.statistics
            metrics.raise("weighpoint_frames_captured_total", [("camera", c.id)], to: Double(stats.pushed))
            metrics.raise("weighpoint_frames_dropped_total", [("camera", c.id)], to: Double(stats.evicted))
            let state = cameras.state(c.id)
            if state.hasPrefix("down") { degraded.append("camera \(c.id)") }
            cams[c.id] = .init(state: state, frames: stats.pushed)
            if let s = suspects[c.id] {
                cams[c.id]?.suspect = "reads over \(readIntake.limits.readsPerSecondPerCamera)/s from \(s.address) refused, last at \(s.at)"
                degraded.append("camera \(c.id) suspect")
            }
        }
        let wim = intake.state
        if !wim.hasPrefix("connected") { degraded.append("wim") }
        let controllerAlarm = intake.watch.alarm(now: clock.now())
        metrics.set("weighpoint_alarm", [("alarm", "wim_controller")], controllerAlarm == nil ? 0 : 1)
        metrics.set("weighpoint_wim_controller_faulty", [], intake.watch.isFaulty ? 1 : 0)
        if controllerAlarm != nil { degraded.append("wim controller") }
        // A count and the oldest record only: health is polled, the backlog can be large.
        let backlog = (try? store.unacknowledgedCount()) ?? 0
        metrics.set("weighpoint_delivery_backlog", [], Double(backlog))
        var oldestAge: Double?
        if backlog > 0, let first = (try? store.unacknowledged(limit: 1))?.first, let ts = Timestamp(rfc3339: first.createdAt) {
            oldestAge = Double(clock.now().microseconds - ts.microseconds) / 1e6
        }
        metrics.set("weighpoint_delivery_oldest_age_seconds", [], oldestAge ?? 0)
        let refusing = store.refusalReason
        metrics.set("weighpoint_alarm", [("alarm", "store_refusing")], refusing == nil ? 0 : 1)
        let free = store.freeBytes()
        metrics.set("weighpoint_store_free_bytes", [], Double(free))
        // Weighings left with the controller: the unit is failing as much as when it refuses evidence.
        let journalAlarm = intake.journalAlarm
        metrics.set("weighpoint_alarm", [("alarm", "wim_not_journalled")], journalAlarm == nil ? 0 : 1)
        let deliveryAlarms = uplink?.alarms ?? []
        metrics.set("weighpoint_alarm", [("alarm", "delivery")], deliveryAlarms.isEmpty ? 0 : 1)
        if !deliveryAlarms.isEmpty { degraded.append("delivery") }
        return UnitHealth(
            status: refusing != nil || journalAlarm != nil ? .failing : degraded.isEmpty ? .ok : .degraded, deviceID: config.station.deviceID, wim: wim, cameras: cams,
            store: journalAlarm.map { _ in "journal refusing weighings (\(free) bytes free)" } ?? refusing.map { "refusing new evidence: \($0)" } ?? "ok", deliveryBacklog: backlog,
            oldestUnacknowledgedAgeSeconds: backlog > 0 ? (oldestAge ?? 0) : nil, degraded: degraded, pendingWeighings: vehicles.count,
            alarms: deliveryAlarms + (refusing.map { ["store: \($0)"] } ?? []) + (journalAlarm.map { [$0] } ?? []) + (controllerAlarm.map { [$0] } ?? []))
    }
}

import Foundation
import Logging
import WeighpointConsole
import WeighpointCore
import WeighpointEvidence
import WeighpointModbus
import WeighpointSystem

/// Where weighings come from: the WIM controller over Modbus, or in tests a source in memory.
public protocol WeighingSource: AnyObject, Sendable {
    /// Starts delivering. `resumeAfter` is the last controller sequence already decided (nil:
    /// none). Each new record goes to `keep` before the controller is acknowledged, and only a
    /// record `keep` held durably (true) is acknowledged: the controller may forget a weighing
    /// only once the unit holds it, and a crash in between re-reads it rather than losing it.
    /// Other events go to `onEvent`.
    func start(resumeAfter: UInt64?, keep: @escaping @Sendable (WIMRecord) -> Bool, onEvent: @escaping @Sendable (WIMEvent) -> Void) throws
    /// Stops; no event is delivered once it has returned.
    func stop()
}

/// The WIM controller over Modbus TCP or RTU (libmodbus), through `WIMDriver`.
public final class ModbusWeighingSource: WeighingSource, @unchecked Sendable {
    public let settings: WIMLinkSettings
    private let lock = NSLock()
    private var driver: WIMDriver?

    public init(settings: WIMLinkSettings) { self.settings = settings }

    public func start(resumeAfter: UInt64?, keep: @escaping @Sendable (WIMRecord) -> Bool, onEvent: @escaping @Sendable (WIMEvent) -> Void) {
        let d = WIMDriver(settings, lastSequence: resumeAfter, keep: keep, onEvent: onEvent)
        lock.withLock { driver = d }
        d.start()
    }

    public func stop() { lock.withLock { driver }?.stop() }
}

/// Weighing intake: takes each weighing from the source, applies the calibration in force,
/// journals it before the controller is acknowledged, and adds it to the pending vehicles. At
/// start it takes over the weighings journalled but not decided before the last stop, and tells
/// the source where to resume: after the controller sequence last decided (kept in `wim.state`),
/// never below the newest record's, so that a weighing decided before a restart is not read twice.
final class WeighingIntake: @unchecked Sendable {
    let source: any WeighingSource
    let profile: WIMProfile
    let store: EvidenceStore
    let calibration: CalibrationKeeper
    let vehicles: PendingVehicles
    let clock: any WallClock
    let metrics: UnitMetrics
    let feed: LiveFeed
    let log: Logger
    /// The decided controller sequence, kept across restarts.
    let statePath: String
    /// Plausibility, repeats and resets: the controller as a device that can be faulty.
    let watch: ControllerWatch

    private let lock = NSLock()
    private var linkState = "not started"
    private var last: (seq: UInt64, time: Timestamp)?
    private var decidedSequence: UInt64?
    /// Set when the controller's numbering started again: the decided sequence kept for a
    /// restart follows the new numbering.
    private var numberingRestarted = false
    /// The next weighing's sequence went back: from the old run's last to it.
    private var wentBack: (from: UInt64, to: UInt64)?
    /// The pending weighing whose sequence went back, until the record after it tells.
    private var unconfirmed: PendingVehicle.ID?
    /// Since when, and why, weighings cannot be journalled (and are left with the controller).
    private var journalProblem: (since: Timestamp, why: String)?

    /// For /health: weighings are being left with the controller, unacknowledged.
    var journalAlarm: String? {
        lock.withLock { journalProblem.map { "wim: weighings not journalled since \($0.since), left with the controller unacknowledged: \($0.why)" } }
    }

    init(source: any WeighingSource, profile: WIMProfile, store: EvidenceStore, calibration: CalibrationKeeper, vehicles: PendingVehicles,
         clock: any WallClock, metrics: UnitMetrics, feed: LiveFeed, logger: Logger, statePath: String, watch: ControllerWatch) {
        self.watch = watch
        self.source = source
        self.profile = profile
        self.store = store
        self.calibration = calibration
        self.vehicles = vehicles
        self.clock = clock
        self.metrics = metrics
        self.feed = feed
        self.log = logger
        self.statePath = statePath
    }

    private var lastNote: [String: ContinuousClock.Instant] = [:]

    /// A reset of the controller's numbering or a number out of order. The instrument's
    /// numbering is part of every record: an auditor must see where it broke. One audit entry
    /// per episode, and one when the controller turns faulty: a flapping controller must not fill
    /// the trail.
    private func noteAnomaly(_ event: String, from: UInt64, to: String, _ message: Logger.Message) {
        var audit: (event: String, old: String, new: String)?
        switch watch.noteReset(now: clock.now()) {
        case .episodeBegins:
            log.error(message, metadata: ["from": "\(from)", "to": "\(to)"])
            audit = (event, "\(from)", to)
        case .turnedFaulty(let n):
            log.critical("wim controller faulty: its numbering keeps breaking; its weighings are invalid until an hour passes without a break", metadata: [
                "breaks_in_hour": "\(n)", "from": "\(from)", "to": "\(to)"])
            audit = ("wim_controller_faulty", "\(from)", "\(to) (\(n) resets or numbers out of order in an hour)")
        case .within(let n):
            noteOnce("reset", "wim numbering broke again", ["event": "\(event)", "from": "\(from)", "to": "\(to)", "breaks_in_hour": "\(n)"])
        }
        guard let audit else { return }
        do {
            try store.appendAudit(event: audit.event, who: "weighpointd", parameter: "controller_seq", old: audit.old, new: audit.new)
        } catch {
            log.error("wim numbering break not in the audit trail", metadata: ["event": "\(audit.event)", "error": "\(error)"])
        }
    }

    /// Logs at most once a minute per kind: a faulty controller sends thousands of records.
    private func noteOnce(_ kind: String, _ message: Logger.Message, _ metadata: Logger.Metadata) {
        let now = ContinuousClock.now
        let due = lock.withLock { () -> Bool in
            if let l = lastNote[kind], now - l < .seconds(60) { return false }
            lastNote[kind] = now
            return true
        }
        if due { log.error(message, metadata: metadata) }
    }

    /// `not started`, `connected` or `down: <reason>`.
    var state: String { lock.withLock { linkState } }
    /// The last weighing received.
    var latest: (seq: UInt64, time: Timestamp)? { lock.withLock { last } }

    func start() throws {
        var resume = resumeSequence()
        // Weighings acknowledged to the controller but not decided when the unit last stopped
        // (killed, power cut): decided now, from their journalled record blocks.
        if let newest = takeOverJournal().max() { resume = max(resume ?? 0, newest) }
        try source.start(resumeAfter: resume, keep: { [weak self] r in self?.take(r) ?? false }, onEvent: { [weak self] event in self?.handle(event) })
    }

    func stop() {
        source.stop()
        log.info("wim stopped", metadata: ["pending": "\(vehicles.count)"])
    }

    /// Puts the journalled weighings back among the pending ones (only those of `ids` when
    /// given: records the store refused, decided again once it takes evidence); returns their
    /// sequences.
    func takeOverJournal(only ids: Set<Int64>? = nil) -> [UInt64] {
        let entries: [(id: Int64, controllerSeq: UInt64, block: String)]
        do {
            entries = try store.journaledWeighings()
        } catch {
            log.critical("weighings journal unreadable: weighings left undecided by the last stop are not decided", metadata: ["error": "\(error)"])
            return []
        }
        var taken: [UInt64] = []
        for e in entries where ids?.contains(e.id) ?? true {
            guard let block = (try? WIMTrace.parse(e.block, source: "journal \(e.id)"))?.blocks.first, block.count == profile.blockLength else {
                log.critical("journalled weighing does not decode with the profile in force: kept for inspection", metadata: [
                    "journal_id": "\(e.id)", "controller_seq": "\(e.controllerSeq)", "profile": "\(profile.name)"])
                continue
            }
            var w = calibration.apply(to: profile.decode(block).weighing(profile))
            // Checked again: one journalled before a stop may be implausible (dated years ahead).
            guard case .take(let problems) = watch.examine(w, now: clock.now(), live: false) else { continue }
            w.decodeProblems += problems
            vehicles.add(w, receivedAt: clock.now(), journalID: e.id, takenOver: true, atOnce: !problems.isEmpty)
            taken.append(w.seq)
        }
        if !taken.isEmpty || (ids == nil && !entries.isEmpty) {
            log.notice(ids == nil ? "weighings taken over from before a stop" : "weighings whose records the store refused are decided again",
                       metadata: ["count": "\(taken.count)", "controller_seqs": "\(taken.prefix(50))"])
        }
        return taken
    }

    private func resumeSequence() -> UInt64? {
        let fromState = (try? String(contentsOfFile: statePath, encoding: .utf8)).flatMap { UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        let fromRecords = (try? store.lastRecord())??.controllerSeq.map { UInt64($0) }
        let s = [fromState, fromRecords].compactMap { $0 }.max()
        log.info("wim resume", metadata: ["after_controller_seq": "\(s.map(String.init) ?? "none")"])
        return s
    }

    /// After a decision batch: keeps the highest controller sequence below which nothing is
    /// pending (weighings are decided in time order, not always in sequence order).
    func noteDecided(_ batch: [PendingVehicle]) {
        let stillPending = vehicles.lowestSequence
        let decidedUpTo = batch.map(\.weighing.seq).filter { s in stillPending.map { s < $0 } ?? true }.max()
        let save: UInt64? = lock.withLock {
            if numberingRestarted { decidedSequence = nil }
            numberingRestarted = false
            guard let decidedUpTo, decidedUpTo > (decidedSequence ?? 0) else { return nil }
            decidedSequence = decidedUpTo
            return decidedUpTo
        }
        guard let save else { return }
        do {
            try durableWrite(Array("\(save)\n".utf8), to: statePath)
        } catch {
            log.error("decided controller sequence not kept: after a restart the controller's records from the last kept one are read again", metadata: ["file": "\(statePath)", "error": "\(error)"])
        }
    }

    /// A record from the controller: examined, journalled, and added to the pending vehicles.
    /// False when it could not be journalled: then it is not acknowledged, and the controller
    /// keeps it (its own queue holds the vehicles; an overflow there is a gap, counted).
    func take(_ rec: WIMRecord) -> Bool {
        var w = calibration.apply(to: rec.weighing(profile))
        let received = clock.now()
        let doubt = lock.withLock { () -> (from: UInt64, to: UInt64)? in
            defer { wentBack = nil }
            return wentBack.flatMap { $0.to == rec.sequence ? $0 : nil }
        }
        let problems: [InvalidityReason]
        switch watch.examine(w, now: received) {
        case .repeated:
            // The same physical weighing shown again (a controller replaying its memory):
            // taken once.
            metrics.add("weighpoint_wim_repeats_total")
            noteOnce("repeat", "wim record repeats a weighing already taken: not taken again", ["controller_seq": "\(w.seq)", "lane": "\(w.lane)", "time": "\(w.time)"])
            if doubt != nil { lock.withLock { unconfirmed = nil } }
            return true
        case .take(let p): problems = p
        }
        if !problems.isEmpty {
            w.decodeProblems += problems
            for p in problems { metrics.add("weighpoint_wim_implausible_total", [("reason", p.code)]) }
            noteOnce("implausible", "wim record implausible: an invalid weighing, decided at once", [
                "controller_seq": "\(w.seq)", "reasons": "\(problems.map(\.description).joined(separator: "; ").prefix(300))"])
        }
        // Journalled before the source acknowledges it (this runs before the acknowledgement):
        // from here a crash leaves the weighing to the next start, not lost.
        let id: Int64
        do {
            id = try store.journalWeighing(controllerSeq: rec.sequence, block: WIMTrace.line(rec.rawBlock), receivedAt: received)
        } catch {
            // Not held: not acknowledged. Offered again, it is judged afresh (not as a repeat).
            watch.forget(w)
            metrics.add("weighpoint_wim_not_journalled_total")
            lock.withLock { journalProblem = (journalProblem?.since ?? received, "\(error)") }
            noteOnce("not-journalled", "weighing not journalled: left with the controller, not acknowledged", ["controller_seq": "\(w.seq)", "error": "\(error)"])
            return false
        }
        let pid = vehicles.add(w, receivedAt: received, journalID: id, atOnce: !problems.isEmpty, unconfirmedSequence: doubt)
        let recovered = lock.withLock { () -> Timestamp? in
            last = (w.seq, w.time)
            if doubt != nil { unconfirmed = pid }
            defer { journalProblem = nil }
            return journalProblem?.since
        }
        if let recovered {
            log.notice("weighings journalled again: the controller is acknowledged again", metadata: ["refused_since": "\(recovered)"])
        }
        metrics.add("weighpoint_weighings_total")
        feed.publish(.weighed(w))
        return true
    }

    private func handle(_ event: WIMEvent) {
        switch event {
        case .weighing(let rec):
            // Only from a source without `keep`; every source here has one.
            _ = take(rec)
        case .gap(let missing):
            metrics.add("weighpoint_wim_gaps_total", [], Double(missing.count))
            log.error("wim sequence gap", metadata: ["first": "\(missing.lowerBound)", "last": "\(missing.upperBound)"])
        case .duplicate(let seq):
            log.notice("wim duplicate", metadata: ["seq": "\(seq)"])
        case .sequenceWentBack(let from, let to):
            lock.withLock { wentBack = (from, to) }
            noteOnce("went-back", "wim sequence went back: the weighing is held until the next record shows whether the controller counts anew", ["from": "\(from)", "to": "\(to)"])
        case .sequenceReset(let from, let to):
            if let id = lock.withLock({ () -> PendingVehicle.ID? in
                defer { unconfirmed = nil }
                numberingRestarted = true
                return unconfirmed
            }) { vehicles.confirmSequence(id) }
            metrics.add("weighpoint_wim_sequence_resets_total")
            noteAnomaly("wim_sequence_reset", from: from, to: "\(to)",
                        "wim sequence went back: the controller restarted or its counter wrapped; its records are taken as new")
        case .sequenceOutOfOrder(let seq, let after, let next):
            if let id = lock.withLock({ () -> PendingVehicle.ID? in
                defer { unconfirmed = nil }
                return unconfirmed
            }) {
                vehicles.refuteSequence(id, InvalidityReason(
                    code: "sequence_out_of_order",
                    detail: "controller sequence \(seq) came after \(after) and before \(next): it began no new run, so its number is wrong and the record is not trusted"))
            }
            metrics.add("weighpoint_wim_sequence_out_of_order_total")
            noteAnomaly("wim_sequence_out_of_order", from: after, to: "\(seq) (next \(next))",
                        "wim record numbered out of order: not a new run; an invalid weighing")
        case .connected(let what):
            lock.withLock { linkState = "connected" }
            log.info("wim connected", metadata: ["link": "\(what)"])
        case .disconnected(let e):
            lock.withLock { linkState = "down: \(e)" }
            log.error("wim down", metadata: ["error": "\(e)"])
        case .retry(let e):
            log.notice("wim retry", metadata: ["error": "\(e)"])
        }
    }
}

import Foundation
import WeighpointCore

/// The WIM controller is a device on a cable, not a trusted peer: it resets, its memory
/// corrupts, its firmware has bugs. This is what the unit makes of its records before they are
/// journalled (Docs/devices.md):
/// - a record beyond the controller's physical bounds (the profile's `[plausibility]`), dated
///   more than `max_clock_ahead_s` ahead of the unit's clock or more than `max_weighing_age_h`
///   behind it, or on a lane the station does not have, is an invalid weighing with its reason,
///   decided at once (never a violation, never pending until its date);
/// - the same physical weighing seen again (same time, lane and axle loads) is a repeat and is
///   taken once;
/// - a sequence below the last is a reset only when the record after it is numbered above it
///   (and below the old run's last); until then its weighing is held, and it is invalid
///   (`sequence_out_of_order`) when the record after it continues the old run or goes back
///   further, or (`sequence_unconfirmed`) when no record comes within `unconfirmedHold`;
/// - resets and numbers out of order are counted per hour: beyond
///   `max_sequence_resets_per_hour` the controller is faulty (in /health and metrics) and its
///   weighings are invalid with reason `controller_sequence_unstable` until an hour passes
///   without one. The audit trail gets one entry when an episode begins and one when the
///   controller turns faulty, not one per break.
final class ControllerWatch: @unchecked Sendable {
    struct Settings: Sendable {
        var bounds = PhysicalBounds()
        var lanes: Set<Int> = []
        var maxClockAheadMicroseconds: Int64 = 300_000_000
        var maxAgeMicroseconds: Int64 = 72 * 3_600_000_000
        var maxResetsPerHour = 3
    }

    struct Fingerprint: Hashable {
        let time: Int64
        let lane: Int
        let axles: [Int]
    }

    enum Verdict: Equatable {
        /// Take it; invalid for these reasons when not empty.
        case take([InvalidityReason])
        /// A weighing already taken, shown again.
        case repeated
    }

    enum ResetOutcome: Equatable {
        /// The first reset after a calm hour: an episode begins (audited).
        case episodeBegins
        /// This reset makes the controller faulty (audited).
        case turnedFaulty(resetsInHour: Int)
        /// Another reset of an episode already audited.
        case within(resetsInHour: Int)
    }

    let settings: Settings
    private let lock = NSLock()
    private var seen: Set<Fingerprint> = []
    private var seenOrder: [Fingerprint] = []
    private var resets: [Int64] = []
    private var faultySince: Timestamp?
    private var implausible: [(at: Int64, reason: String)] = []
    static let remembered = 4096
    /// Resets and implausible records kept for counting: beyond this many the count says "at least".
    static let kept = 2000  // above the largest max_sequence_resets_per_hour (1000)
    static let hour: Int64 = 3_600_000_000
    /// How long a weighing whose sequence went back waits for the record that confirms a new run.
    static let unconfirmedHold: Int64 = 600_000_000

    init(_ settings: Settings) { self.settings = settings }

    /// What to do with a weighing received `now`. `live`: from the controller now (a weighing
    /// taken over from the journal at start may be old, and is not a repeat).
    func examine(_ w: Weighing, now: Timestamp, live: Bool = true) -> Verdict {
        var reasons = settings.bounds.problems(of: w)
        let ahead = w.time.microseconds - now.microseconds
        if ahead > settings.maxClockAheadMicroseconds {
            reasons.append(InvalidityReason(code: "implausible_time", detail: "\(w.time) is \(ahead / 1_000_000) s ahead of the unit's clock (\(now))"))
        } else if live, -ahead > settings.maxAgeMicroseconds {
            reasons.append(InvalidityReason(code: "implausible_time", detail: "\(w.time) is \(-ahead / 3_600_000_000) h behind the unit's clock (\(now))"))
        }
        if !settings.lanes.isEmpty && !settings.lanes.contains(w.lane) {
            reasons.append(InvalidityReason(code: "lane_unknown", detail: "lane \(w.lane) is not one of the station's lanes \(settings.lanes.sorted())"))
        }
        return lock.withLock {
            if live {
                let f = Fingerprint(time: w.time.microseconds, lane: w.lane, axles: w.axles.map(\.kg))
                if seen.contains(f) { return .repeated }
                seen.insert(f)
                seenOrder.append(f)
                if seenOrder.count > Self.remembered { seen.remove(seenOrder.removeFirst()) }
            }
            calm(now)
            if let since = faultySince {
                reasons.append(InvalidityReason(code: "controller_sequence_unstable", detail: "the controller's numbering started again or went out of order \(resets.count) times in the last hour (faulty since \(since))"))
            }
            if let first = reasons.first {
                implausible.append((now.microseconds, first.code))
                implausible.removeAll { $0.at < now.microseconds - 600_000_000 }
                // A controller sending garbage as fast as it is polled: only a count is needed.
                if implausible.count > Self.kept { implausible.removeFirst(implausible.count - Self.kept) }
            }
            return .take(reasons)
        }
    }

    /// Forgets a weighing examined but not taken (it could not be journalled): offered again,
    /// it is not a repeat.
    func forget(_ w: Weighing) {
        let f = Fingerprint(time: w.time.microseconds, lane: w.lane, axles: w.axles.map(\.kg))
        lock.withLock {
            guard seen.remove(f) != nil else { return }
            if let i = seenOrder.lastIndex(of: f) { seenOrder.remove(at: i) }
        }
    }

    /// A sequence reset at `now`.
    func noteReset(now: Timestamp) -> ResetOutcome {
        lock.withLock {
            calm(now)
            let begins = resets.isEmpty
            resets.append(now.microseconds)
            if resets.count > Self.kept { resets.removeFirst(resets.count - Self.kept) }
            if begins { return .episodeBegins }
            if faultySince == nil && resets.count > settings.maxResetsPerHour {
                faultySince = now
                return .turnedFaulty(resetsInHour: resets.count)
            }
            return .within(resetsInHour: resets.count)
        }
    }

    /// Forgets resets older than an hour; a faulty controller an hour without one is trusted again.
    private func calm(_ now: Timestamp) {
        resets.removeAll { $0 < now.microseconds - Self.hour }
        if resets.isEmpty { faultySince = nil }
    }

    var isFaulty: Bool { lock.withLock { faultySince != nil } }

    /// For /health: why the controller is not to be trusted now, or nil.
    func alarm(now: Timestamp) -> String? {
        lock.withLock {
            calm(now)
            implausible.removeAll { $0.at < now.microseconds - 600_000_000 }
            func count(_ n: Int) -> String { n >= Self.kept ? "at least \(n)" : "\(n)" }
            if let since = faultySince { return "wim controller faulty: \(count(resets.count)) sequence resets or numbers out of order in the last hour (since \(since)); its weighings are invalid" }
            if implausible.count >= 3 { return "wim controller: \(count(implausible.count)) implausible weighings in the last 10 minutes (last: \(implausible.last!.reason))" }
            return nil
        }
    }
}

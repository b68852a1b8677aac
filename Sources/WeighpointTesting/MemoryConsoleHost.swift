import Foundation
import WeighpointConsole
import WeighpointCore

/// A unit in memory for console tests and the console fuzzer: it holds a real profile, audit
/// list and feed, applies changes as the unit does (audit first, refused when the trail is
/// full). Not a mock: tests look at what it holds afterwards, not at which calls were made.
public final class MemoryConsoleHost: ConsoleHost, @unchecked Sendable {
    public let lock = NSLock()
    public var profile = CalibrationProfile()
    public var sha = "0000000000000000000000000000000000000000000000000000000000000000"
    public var configuredTolerance = Tolerance(percentHundredths: 500, kg: 0)
    public var audit: [ConsoleAuditEntry] = []
    public var auditCapacity = 1000
    public var stored: [ConsoleRecordLine] = []
    public var references: [ReferenceRun] = []
    public let feed = LiveFeed()
    public var clock = Timestamp(rfc3339: "2026-12-01T16:00:00.000Z")!

    public init() {}

    public let deviceID = "WP-T"
    public let stationCode = "ST-T"
    public let lanes = [1, 2]
    public func now() -> Timestamp { clock }

    public func status() -> ConsoleStatus {
        ConsoleStatus(
            softwareVersion: "0.1.0", executableSHA256: String(repeating: "ab", count: 32), startedAt: clock.adding(microseconds: -3_700_000_000),
            clockSynchronised: true, clockMaxErrorMicroseconds: 12_000, clockEstimatedErrorMicroseconds: 3_000, wim: "connected", lastWeighing: nil,
            cameras: [("front-1", "capturing", 10)], store: "ok", records: stored.count, newestRecord: stored.last?.seq,
            deliveryBacklog: 0, oldestUnacknowledgedAgeSeconds: nil, alarms: [])
    }

    public func calibration() -> (profile: CalibrationProfile, sha256: String) { lock.withLock { (profile, sha) } }
    public func tolerance() -> Tolerance { lock.withLock { profile.tolerance ?? configuredTolerance } }

    public struct Refused: Error, CustomStringConvertible { public let description: String }

    public func applyCalibration(_ p: CalibrationProfile, changes: [ParameterChange], by technician: String, reference: ReferenceRun?) throws -> String {
        try lock.withLock {
            guard audit.count + changes.count <= auditCapacity else { throw Refused(description: "audit trail full (\(auditCapacity) entries)") }
            for c in changes {
                audit.append(ConsoleAuditEntry(seq: Int64(audit.count + 1), time: "\(clock)", who: technician, event: "calibration_change", parameter: c.parameter, old: c.old, new: c.new))
            }
            if let reference { references.append(reference) }
            profile = p
            sha = String(format: "%064x", audit.count)
            return sha
        }
    }

    public func recordEvent(_ event: String, who: String, detail: String) {
        lock.withLock { audit.append(ConsoleAuditEntry(seq: Int64(audit.count + 1), time: "\(clock)", who: who, event: event, parameter: "console", old: nil, new: detail)) }
    }

    public func auditEntries(last n: Int) throws -> [ConsoleAuditEntry] { lock.withLock { Array(audit.suffix(n)) } }
    public func records(last n: Int) throws -> [ConsoleRecordLine] { lock.withLock { Array(stored.suffix(n)) } }
    public func subscribe() -> LiveFeed.Subscription { feed.subscribe() }
    /// What a restarted console finds (the unit keeps it in its data directory).
    public var lockout = ConsoleLockout()
    public func loadLockout() -> ConsoleLockout { lock.withLock { lockout } }
    public func saveLockout(_ l: ConsoleLockout) { lock.withLock { lockout = l } }

    public var events: [String] { lock.withLock { audit.map(\.event) } }
}


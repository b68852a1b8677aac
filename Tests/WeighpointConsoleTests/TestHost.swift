import Foundation
@testable import WeighpointConsole
import WeighpointCore

/// A unit in memory for console tests: it holds a real profile, audit list and feed, applies
/// changes as the unit does (audit first, refused when the trail is full), and can be told to
/// fail. Not a mock: tests look at what it holds afterwards, not at which calls were made.
final class TestHost: ConsoleHost, @unchecked Sendable {
    let lock = NSLock()
    var profile = CalibrationProfile()
    var sha = "0000000000000000000000000000000000000000000000000000000000000000"
    var configuredTolerance = Tolerance(percentHundredths: 500, kg: 0)
    var audit: [ConsoleAuditEntry] = []
    var auditCapacity = 1000
    var stored: [ConsoleRecordLine] = []
    var references: [ReferenceRun] = []
    let feed = LiveFeed()
    var clock = Timestamp(rfc3339: "2026-12-01T16:00:00.000Z")!

    let deviceID = "WP-T"
    let stationCode = "ST-T"
    let lanes = [1, 2]
    func now() -> Timestamp { clock }

    func status() -> ConsoleStatus {
        ConsoleStatus(
            softwareVersion: "0.1.0", executableSHA256: String(repeating: "ab", count: 32), startedAt: clock.adding(microseconds: -3_700_000_000),
            clockSynchronised: true, clockMaxErrorMicroseconds: 12_000, clockEstimatedErrorMicroseconds: 3_000, wim: "connected", lastWeighing: nil,
            cameras: [("front-1", "capturing", 10)], store: "ok", records: stored.count, newestRecord: stored.last?.seq,
            deliveryBacklog: 0, oldestUnacknowledgedAgeSeconds: nil, alarms: [])
    }

    func calibration() -> (profile: CalibrationProfile, sha256: String) { lock.withLock { (profile, sha) } }
    func tolerance() -> Tolerance { lock.withLock { profile.tolerance ?? configuredTolerance } }

    struct Refused: Error, CustomStringConvertible { let description: String }

    func applyCalibration(_ p: CalibrationProfile, changes: [ParameterChange], by technician: String, reference: ReferenceRun?) throws -> String {
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

    func recordEvent(_ event: String, who: String, detail: String) {
        lock.withLock { audit.append(ConsoleAuditEntry(seq: Int64(audit.count + 1), time: "\(clock)", who: who, event: event, parameter: "console", old: nil, new: detail)) }
    }

    func auditEntries(last n: Int) throws -> [ConsoleAuditEntry] { lock.withLock { Array(audit.suffix(n)) } }
    func records(last n: Int) throws -> [ConsoleRecordLine] { lock.withLock { Array(stored.suffix(n)) } }
    func subscribe() -> LiveFeed.Subscription { feed.subscribe() }

    var events: [String] { lock.withLock { audit.map(\.event) } }
}

let testPIN = "4711-0815"
/// One technician, hashed with the minimum cost so tests stay fast.
let technicians = [Technician(name: "li", pin: PINHash(pin: testPIN, iterations: PINHash.minimumIterations), fullName: "李工")]

/// Drives a session as a terminal would: bytes in, text out, a clock the test moves.
final class Terminal {
    let session: ConsoleSession
    var time: Double = 1000
    var screen = ""

    init(_ host: TestHost, configure: (inout ConsoleSettings) -> Void = { _ in }) {
        var s = ConsoleSettings(technicians: technicians)
        configure(&s)
        session = ConsoleSession(host: host, settings: s)
        screen += String(decoding: session.start(now: time), as: UTF8.self)
    }

    /// Types `text` (Enter is CR, as minicom sends it) and returns what the console answered.
    @discardableResult
    func type(_ text: String, enter: Bool = true) -> String {
        send(Array((text + (enter ? "\r" : "")).utf8))
    }

    @discardableResult
    func send(_ bytes: [UInt8]) -> String {
        let out = String(decoding: session.receive(bytes, now: time), as: UTF8.self)
        screen += out
        return out
    }

    @discardableResult
    func wait(_ seconds: Double) -> String {
        time += seconds
        let out = String(decoding: session.tick(now: time), as: UTF8.self)
        screen += out
        return out
    }

    func login() {
        type("li")
        type(testPIN)
    }
}

import Foundation
import Logging
import ServiceLifecycle
import WeighpointConsole
import WeighpointCore
import WeighpointEvidence

/// The running unit as the technician console sees it.
public final class UnitConsoleHost: ConsoleHost, @unchecked Sendable {
    let unit: StationUnit
    let log: Logger

    public init(unit: StationUnit, logger: Logger) {
        self.unit = unit
        self.log = logger
    }

    public var deviceID: String { unit.config.station.deviceID }
    public var stationCode: String { unit.config.station.code }
    public var lanes: [Int] { unit.config.lanes.map(\.number) }
    public func now() -> Timestamp { ClockState.now() }

    public func status() -> ConsoleStatus {
        let h = unit.health()
        let clock = ClockState.read()
        let cameras = unit.config.cameras.map { c in (id: c.id, state: h.cameras[c.id]?.state ?? "?", frames: h.cameras[c.id]?.frames ?? 0) }
        let alarms = h.alarms + h.degraded.map { "degraded: \($0)" }
        let clockAlarm = clock.synchronised ? [] : ["clock not synchronised"]
        return ConsoleStatus(
            softwareVersion: unit.software.version, executableSHA256: unit.software.executableSHA256, startedAt: unit.startedAt,
            clockSynchronised: clock.synchronised, clockMaxErrorMicroseconds: clock.maxErrorMicroseconds,
            clockEstimatedErrorMicroseconds: clock.estimatedErrorMicroseconds, wim: h.wim, lastWeighing: unit.latestWeighing,
            cameras: cameras, store: h.store, records: (try? unit.store.recordCount()) ?? 0,
            newestRecord: (try? unit.store.lastRecord())??.seq, deliveryBacklog: h.deliveryBacklog, oldestUnacknowledgedAgeSeconds: h.oldestUnacknowledgedAgeSeconds, alarms: alarms + clockAlarm)
    }

    public func calibration() -> (profile: CalibrationProfile, sha256: String) { unit.calibration.snapshot }
    public func tolerance() -> Tolerance { unit.tolerance }

    public func applyCalibration(_ profile: CalibrationProfile, changes: [ParameterChange], by technician: String, reference: ReferenceRun?) throws -> String {
        let sha = try unit.calibration.change(to: profile, changes: changes, by: technician, reference: reference, at: ClockState.now())
        for c in changes {
            log.notice("calibration changed", metadata: ["who": "\(technician)", "parameter": "\(c.parameter)", "old": "\(c.old)", "new": "\(c.new)", "sha256": "\(sha)"])
        }
        return sha
    }

    public func recordEvent(_ event: String, who: String, detail: String) {
        log.notice("console", metadata: ["event": "\(event)", "who": "\(who)", "detail": "\(detail)"])
        do {
            try unit.store.appendAudit(event: event, who: who, parameter: "console", old: nil, new: detail)
        } catch {
            log.error("console event not in the audit trail", metadata: ["event": "\(event)", "error": "\(error)"])
        }
    }

    var lockoutFile: ConsoleLockoutFile { ConsoleLockoutFile(path: unit.config.storage.data + "/console-lockout.json", log: log) }
    public func loadLockout() -> ConsoleLockout { lockoutFile.load() }
    public func saveLockout(_ lockout: ConsoleLockout) { lockoutFile.save(lockout) }

    public func auditEntries(last n: Int) throws -> [ConsoleAuditEntry] {
        try unit.store.auditEntries(last: n).map { e in
            let j = e.json
            return ConsoleAuditEntry(
                seq: e.seq, time: j?["time"]?["utc"]?.stringValue ?? "?", who: j?["who"]?.stringValue ?? "?", event: e.event,
                parameter: j?["parameter"]?.stringValue ?? "", old: j?["old"]?.stringValue, new: j?["new"]?.stringValue)
        }
    }

    public func records(last n: Int) throws -> [ConsoleRecordLine] {
        // The store's columns: no record body is parsed for a listing.
        try unit.store.records(last: n).map { r in
            ConsoleRecordLine(
                seq: r.seq, time: r.createdAt, lane: r.lane ?? 0, plate: r.plate,
                grossKg: r.grossKg ?? 0, decision: r.decision, delivered: r.acknowledgedAt != nil)
        }
    }

    public func subscribe() -> LiveFeed.Subscription { unit.feed.subscribe() }
}

/// The technician console as a swift-service-lifecycle service: the console thread over the
/// configured serial port, or standard input and output. Started after the unit, stopped before
/// it. A console on standard input that ends (end of input) shuts the unit down gracefully.
public struct ConsoleService: Service {
    public enum Line: Sendable {
        case serial(String, SerialSettings)
        case standardIO
    }

    let unit: StationUnit
    let line: Line
    let settings: ConsoleSettings
    let log: Logger

    public init(unit: StationUnit, line: Line, settings: ConsoleSettings, logger: Logger) {
        self.unit = unit
        self.line = line
        self.settings = settings
        self.log = logger
    }

    public func run() async throws {
        let transport: any ConsoleTransport
        switch line {
        case .serial(let path, let s): transport = SerialPortTransport(path: path, settings: s)
        case .standardIO: transport = StandardIOTransport()
        }
        let session = ConsoleSession(host: UnitConsoleHost(unit: unit, logger: log), settings: settings)
        let log = self.log
        let runner = ConsoleRunner(transport: transport, session: session) { event in
            switch event {
            case .unavailable, .lost: log.warning("console", metadata: ["event": "\(event)"])
            default: log.info("console", metadata: ["event": "\(event)"])
            }
        }
        let ended = ReadyFlag(needs: ["ended"])
        runner.start { ended.mark("ended") }
        log.info("console started", metadata: ["line": "\(transport.name)", "technicians": "\(settings.technicians.count)"])
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled && !ended.isSet { try? await Task.sleep(for: .milliseconds(100)) }
        }
        runner.stop()
    }
}

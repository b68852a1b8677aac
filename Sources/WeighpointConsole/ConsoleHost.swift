import WeighpointCore

/// What the console needs from the running unit. The unit (WeighpointService) implements it; the
/// console formats and asks, the unit does and records. Every method returns promptly: the
/// console runs on its own thread and must never hold up weighing.
public protocol ConsoleHost: AnyObject, Sendable {
    /// Device id and station code, for the banner and prompt.
    var deviceID: String { get }
    var stationCode: String { get }
    var lanes: [Int] { get }
    /// The current UTC time.
    func now() -> Timestamp
    func status() -> ConsoleStatus
    /// The calibration profile in force and the SHA-256 of its file.
    func calibration() -> (profile: CalibrationProfile, sha256: String)
    /// The tolerance deducted now (the profile's, else the station configuration's).
    func tolerance() -> Tolerance
    /// Writes `profile` as the active profile and applies it to the next weighing, after
    /// recording `changes` in the audit trail (all of them or none). `reference` is the run the
    /// factors came from, kept with the calibration data. Returns the new profile's SHA-256; throws
    /// with a message for the technician when anything refuses (audit trail full, disk).
    func applyCalibration(_ profile: CalibrationProfile, changes: [ParameterChange], by technician: String, reference: ReferenceRun?) throws -> String
    /// Records a console event (login, failure, lockout, logout) in the audit trail; failures are
    /// logged by the unit, never shown as the technician's problem.
    func recordEvent(_ event: String, who: String, detail: String)
    func auditEntries(last n: Int) throws -> [ConsoleAuditEntry]
    func records(last n: Int) throws -> [ConsoleRecordLine]
    /// A feed of weighings and decisions from now on.
    func subscribe() -> LiveFeed.Subscription
    /// The failed logins in a row and the lock they earned, as last saved: a restart of the unit
    /// (or a power cut) must not give a PIN guesser fresh attempts.
    func loadLockout() -> ConsoleLockout
    /// Keeps `lockout` across restarts (durably, before the console answers).
    func saveLockout(_ lockout: ConsoleLockout)
}

/// Failed logins in a row and, when they locked the console, until when (UTC: it must survive a
/// restart, which the console's monotonic clock does not).
public struct ConsoleLockout: Sendable, Equatable {
    public var failures: Int
    public var lockedUntil: Timestamp?
    public init(failures: Int = 0, lockedUntil: Timestamp? = nil) {
        self.failures = failures
        self.lockedUntil = lockedUntil
    }
}

/// A legally relevant parameter before and after, as the audit trail records it.
public struct ParameterChange: Sendable, Equatable {
    public var parameter: String
    public var old: String
    public var new: String
    public init(parameter: String, old: String, new: String) {
        self.parameter = parameter
        self.old = old
        self.new = new
    }
}

/// The unit's state as `status` shows it.
public struct ConsoleStatus: Sendable {
    public var softwareVersion: String
    public var executableSHA256: String
    public var startedAt: Timestamp
    public var clockSynchronised: Bool
    public var clockMaxErrorMicroseconds: Int
    public var clockEstimatedErrorMicroseconds: Int
    public var wim: String
    public var lastWeighing: (seq: UInt64, time: Timestamp)?
    public var cameras: [(id: String, state: String, frames: Int)]
    public var store: String
    public var records: Int
    public var newestRecord: Int64?
    public var deliveryBacklog: Int
    public var oldestUnacknowledgedAgeSeconds: Double?
    public var alarms: [String]

    public init(
        softwareVersion: String, executableSHA256: String, startedAt: Timestamp, clockSynchronised: Bool, clockMaxErrorMicroseconds: Int,
        clockEstimatedErrorMicroseconds: Int, wim: String, lastWeighing: (seq: UInt64, time: Timestamp)?, cameras: [(id: String, state: String, frames: Int)],
        store: String, records: Int, newestRecord: Int64?, deliveryBacklog: Int, oldestUnacknowledgedAgeSeconds: Double?, alarms: [String]
    ) {
        self.softwareVersion = softwareVersion
        self.executableSHA256 = executableSHA256
        self.startedAt = startedAt
        self.clockSynchronised = clockSynchronised
        self.clockMaxErrorMicroseconds = clockMaxErrorMicroseconds
        self.clockEstimatedErrorMicroseconds = clockEstimatedErrorMicroseconds
        self.wim = wim
        self.lastWeighing = lastWeighing
        self.cameras = cameras
        self.store = store
        self.records = records
        self.newestRecord = newestRecord
        self.deliveryBacklog = deliveryBacklog
        self.oldestUnacknowledgedAgeSeconds = oldestUnacknowledgedAgeSeconds
        self.alarms = alarms
    }
}

/// One audit-trail entry as the console lists it.
public struct ConsoleAuditEntry: Sendable, Equatable {
    public var seq: Int64
    public var time: String
    public var who: String
    public var event: String
    public var parameter: String
    public var old: String?
    public var new: String?
    public init(seq: Int64, time: String, who: String, event: String, parameter: String, old: String?, new: String?) {
        self.seq = seq
        self.time = time
        self.who = who
        self.event = event
        self.parameter = parameter
        self.old = old
        self.new = new
    }
}

/// One record as the console lists it.
public struct ConsoleRecordLine: Sendable, Equatable {
    public var seq: Int64
    public var time: String
    public var lane: Int
    public var plate: String?
    public var grossKg: Int
    public var decision: String
    public var delivered: Bool
    public init(seq: Int64, time: String, lane: Int, plate: String?, grossKg: Int, decision: String, delivered: Bool) {
        self.seq = seq
        self.time = time
        self.lane = lane
        self.plate = plate
        self.grossKg = grossKg
        self.decision = decision
        self.delivered = delivered
    }
}

// WeighpointModbus owns the WIM controller link: the libmodbus client, register-map
// profiles as data (Hardware/wim), record decoding, the driver thread that delivers each record
// exactly once, and traces. It may import Core, JSON and System.
import Foundation
import WeighpointCore
import WeighpointSystem

/// What the WIM driver reports.
public enum WIMEvent: Sendable {
    /// A new vehicle record, in sequence order. Delivered before it is acknowledged to the
    /// controller, so a crash in between re-reads it rather than losing it. (With a `keep`
    /// closure, records go to it instead, and one it did not keep is not acknowledged.)
    case weighing(WIMRecord)
    /// The controller's sequence jumped: records `missing` were never seen (its queue overflowed).
    case gap(missing: ClosedRange<UInt64>)
    /// A record already delivered was shown again (an acknowledgement got lost); re-acknowledged.
    case duplicate(sequence: UInt64)
    /// The next `.weighing` is numbered `to`, below `from`, the last of the run so far: either
    /// the controller counts from the start again (it restarted, or its counter wrapped) or this
    /// one number is wrong (corrupt memory). The record after it tells: `.sequenceReset` when
    /// the numbers then increase from `to`, `.sequenceOutOfOrder` when they do not.
    case sequenceWentBack(from: UInt64, to: UInt64)
    /// The numbering started again, from `from` to `to`, confirmed by the record after `to`
    /// numbered above it and below `from`. Records are delivered from there; treating them as
    /// already seen would acknowledge vehicles that were never weighed by the unit.
    case sequenceReset(from: UInt64, to: UInt64)
    /// The record numbered `sequence`, which went back from `after`, began no new run: the one
    /// after it was numbered `next` (the old run went on, or the numbers went back further).
    /// Its number is wrong, and so perhaps is the rest of it.
    case sequenceOutOfOrder(sequence: UInt64, after: UInt64, next: UInt64)
    case connected(String)
    /// The link failed after retries; the driver backs off and reconnects.
    case disconnected(ModbusError)
    /// A single request failed and is being retried.
    case retry(ModbusError)
}

/// Settings of a WIM link.
public struct WIMLinkSettings: Sendable {
    public var transport: ModbusTransport
    public var profile: WIMProfile
    /// Unit id; nil uses the profile's.
    public var unitId: Int?
    public var responseTimeoutMs = 500
    /// Attempts per request before the link is declared down.
    public var attempts = 3
    public var pollIntervalMs = 50
    /// After a record the unit could not keep, the pause before it is offered again.
    public var refusedRetryMs = 1_000
    public var backoffInitialMs = 100
    public var backoffMaxMs = 5_000

    public init(transport: ModbusTransport, profile: WIMProfile, unitId: Int? = nil) {
        self.transport = transport
        self.profile = profile
        self.unitId = unitId
    }
}

/// One connection's worth of the handshake, synchronous: each call makes blocking libmodbus
/// requests. `WIMDriver` runs it on its own thread; tests and the CLI may call it directly.
public final class WIMSession {
    public let settings: WIMLinkSettings
    private let client: ModbusClient
    /// The last sequence of the run delivered; nil before the first.
    public private(set) var lastSequence: UInt64?
    /// A record delivered numbered below `lastSequence`, not yet confirmed as the start of a
    /// new run by the record after it.
    public private(set) var unconfirmed: UInt64?
    private let onEvent: (WIMEvent) -> Void
    private let keep: ((WIMRecord) -> Bool)?
    /// The last drain stopped at a record `keep` did not keep: it stays with the controller.
    public private(set) var refused = false
    var profile: WIMProfile { settings.profile }

    /// `keep`: takes each new record and says whether it is held durably (journalled). One not
    /// kept is not acknowledged: the controller keeps it, and it is offered again at the next
    /// drain. Without it, records are delivered as `.weighing` events and always acknowledged.
    public init(_ settings: WIMLinkSettings, lastSequence: UInt64?, unconfirmed: UInt64? = nil,
                keep: ((WIMRecord) -> Bool)? = nil, onEvent: @escaping (WIMEvent) -> Void) throws(ModbusError) {
        self.settings = settings
        self.keep = keep
        self.lastSequence = lastSequence
        self.unconfirmed = lastSequence == nil ? nil : unconfirmed
        self.onEvent = onEvent
        client = try ModbusClient(settings.transport, unitId: settings.unitId ?? settings.profile.unitId, responseTimeoutMs: settings.responseTimeoutMs)
    }

    /// Connects and checks the map's magic register.
    public func connect() throws(ModbusError) {
        try client.connect()
        if let magic = profile.magic {
            let v = try withRetries { () throws(ModbusError) in try client.readHoldingRegisters(at: magic.address, count: 1)[0] }
            guard v == magic.value else {
                client.close()
                throw ModbusError(
                    endpoint: settings.transport.description, operation: "check profile \(profile.name)", register: magic.address, errno: 0,
                    reason: "register holds 0x\(String(v, radix: 16)), expected 0x\(String(magic.value, radix: 16)): is this a \(profile.name) controller?")
            }
        }
        onEvent(.connected(settings.transport.description))
    }

    public func close() { client.close() }

    /// Reads every record waiting in the controller, delivering each; returns how many new
    /// weighings were delivered.
    @discardableResult
    public func drain() throws(ModbusError) -> Int {
        var delivered = 0
        var repeated: UInt64?
        refused = false
        while true {
            switch profile.handshake {
            case .counter(let counter, let ack):
                let newest = profile.handshakeValue(counter, try withRetries { () throws(ModbusError) in try client.readHoldingRegisters(at: counter.address, count: counter.width) })
                if newest == 0 { return delivered }
                // Nothing new: the newest is the last taken. A newest below it is read (the
                // numbering went back, or one number is wrong: `deliver` tells them apart).
                if newest == unconfirmed ?? lastSequence { return delivered }
                let record = try readRecord()
                switch deliver(record) {
                case .refused:
                    // Not held by the unit: not acknowledged, so the controller keeps it.
                    refused = true
                    return delivered
                case .delivered:
                    delivered += 1
                case .shownAgain:
                    // The same old record twice in a row: the controller is not advancing. Leave
                    // it for the next poll rather than spin.
                    if repeated == record.sequence { return delivered }
                    repeated = record.sequence
                }
                try withRetries { () throws(ModbusError) in try client.writeRegisters(at: ack.address, profile.handshakeRegisters(record.sequence, ack)) }
            case .readyFlag(let ready):
                let flag = try withRetries { () throws(ModbusError) in try client.readHoldingRegisters(at: ready.address, count: 1)[0] }
                if flag == 0 { return delivered }
                let record = try readRecord()
                switch deliver(record) {
                case .refused:
                    refused = true
                    return delivered
                case .delivered: delivered += 1
                case .shownAgain: break
                }
                try acknowledgeReady(record, ready)
            }
        }
    }

    /// Clears the ready flag for `record`. Clearing is not idempotent: a write the controller
    /// took whose reply was lost (a bad CRC, another unit id) has already moved it to the next
    /// record, and writing again would acknowledge that one unread. So after a failed write the
    /// flag and the record shown are read back first: still this record, write again; anything
    /// else, the acknowledgement was taken.
    private func acknowledgeReady(_ record: WIMRecord, _ ready: RegisterField) throws(ModbusError) {
        var attempt = 1
        while true {
            do {
                try client.writeRegisters(at: ready.address, [0])
                return
            } catch {
                if attempt >= settings.attempts { throw error }
                onEvent(.retry(error))
                client.flush()
                attempt += 1
                let flag = try withRetries { () throws(ModbusError) in try client.readHoldingRegisters(at: ready.address, count: 1)[0] }
                if flag == 0 { return }
                if try readRecord().sequence != record.sequence { return }
            }
        }
    }

    private func readRecord() throws(ModbusError) -> WIMRecord {
        let block = try withRetries { () throws(ModbusError) in try client.readHoldingRegisters(at: profile.blockAddress, count: profile.blockLength) }
        return profile.decode(block)
    }

    enum Delivery { case delivered, shownAgain, refused }

    /// Sequence decides: the last one again is a duplicate (its acknowledgement got lost), a jump
    /// is a gap, and an older one went back: a new run when the record after it is numbered
    /// above it and below the old run's last, a wrong number otherwise. A record `keep` refused
    /// leaves the position as it was, so it is judged the same when offered again.
    private func deliver(_ record: WIMRecord) -> Delivery {
        let s = record.sequence
        if let c = unconfirmed, let last = lastSequence {
            if s == c {
                onEvent(.duplicate(sequence: s))
                return .shownAgain
            }
            unconfirmed = nil
            if s > c && s < last {
                // The numbers increase from the one that went back: the controller counts anew.
                onEvent(.sequenceReset(from: last, to: c))
                lastSequence = c
            } else {
                onEvent(.sequenceOutOfOrder(sequence: c, after: last, next: s))
            }
        }
        if let last = lastSequence {
            if s < last {
                onEvent(.sequenceWentBack(from: last, to: s))
                guard take(record) else { return .refused }
                unconfirmed = s
                return .delivered
            }
            if s == last {
                onEvent(.duplicate(sequence: s))
                return .shownAgain
            }
            guard take(record) else { return .refused }
            if s > last + 1 { onEvent(.gap(missing: (last + 1)...(s - 1))) }
        } else {
            guard take(record) else { return .refused }
        }
        lastSequence = s
        return .delivered
    }

    /// Hands the record over: to `keep`, or as a `.weighing` event.
    private func take(_ record: WIMRecord) -> Bool {
        if let keep { return keep(record) }
        onEvent(.weighing(record))
        return true
    }

    /// Runs `body`, retrying failed requests (after dropping stale bytes) up to `attempts` times.
    private func withRetries<T>(_ body: () throws(ModbusError) -> T) throws(ModbusError) -> T {
        var attempt = 1
        while true {
            do {
                return try body()
            } catch {
                if attempt >= settings.attempts { throw error }
                onEvent(.retry(error))
                client.flush()
                attempt += 1
            }
        }
    }
}

/// Keeps a WIM link up on a dedicated thread (libmodbus blocks): polls, delivers records in
/// sequence order without loss or duplicates across reconnects, and reconnects with exponential
/// backoff and jitter when the link fails.
public final class WIMDriver: @unchecked Sendable {
    public let settings: WIMLinkSettings
    private let onEvent: @Sendable (WIMEvent) -> Void
    private let keep: (@Sendable (WIMRecord) -> Bool)?
    private let lock = NSLock()
    private var lastSequence: UInt64?
    private var unconfirmed: UInt64?
    /// Made at the first start; holds its owner weakly, so an owner dropped while stopped is freed
    /// (a running thread keeps its owner until `stop`).
    private lazy var worker = WorkerThread(name: "wim-driver") { [weak self] w in self?.run(w) }

    /// `lastSequence`: the last sequence already stored, so a restart neither repeats nor skips.
    public init(_ settings: WIMLinkSettings, lastSequence: UInt64? = nil, keep: (@Sendable (WIMRecord) -> Bool)? = nil,
                onEvent: @escaping @Sendable (WIMEvent) -> Void) {
        self.settings = settings
        self.keep = keep
        self.lastSequence = lastSequence
        self.onEvent = onEvent
    }

    /// The last sequence delivered.
    public var deliveredSequence: UInt64? { lock.withLock { lastSequence } }

    public func start() { lock.withLock { worker }.start() }

    /// Stops after the current request; returns when the thread has ended.
    public func stop() {
        lock.withLock { worker }.stop()
    }

    private func run(_ worker: WorkerThread) {
        var isRunning: Bool { worker.isRunning }
        func pause(_ ms: Int) { worker.pause(milliseconds: ms) }
        var backoff = settings.backoffInitialMs
        while isRunning {
            let session: WIMSession
            do {
                let (last, pending) = lock.withLock { (lastSequence, unconfirmed) }
                session = try WIMSession(settings, lastSequence: last, unconfirmed: pending, keep: keep) { [onEvent] e in onEvent(e) }
                try session.connect()
                backoff = settings.backoffInitialMs
            } catch {
                onEvent(.disconnected(error))
                pause(backoff + Int.random(in: 0...(backoff / 2)))
                backoff = min(backoff * 2, settings.backoffMaxMs)
                continue
            }
            while isRunning {
                do {
                    try session.drain()
                    lock.withLock { (lastSequence, unconfirmed) = (session.lastSequence, session.unconfirmed) }
                    // A record the unit could not hold (its journal is full or failing): offered
                    // again after a pause, not at the poll rate.
                    pause(session.refused ? max(settings.refusedRetryMs, settings.pollIntervalMs) : settings.pollIntervalMs)
                } catch {
                    lock.withLock { (lastSequence, unconfirmed) = (session.lastSequence, session.unconfirmed) }
                    session.close()
                    onEvent(.disconnected(error))
                    pause(backoff + Int.random(in: 0...(backoff / 2)))
                    backoff = min(backoff * 2, settings.backoffMaxMs)
                    break
                }
            }
            session.close()
        }
    }
}

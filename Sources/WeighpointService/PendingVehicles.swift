import Foundation
import WeighpointCore
import WeighpointEvidence
import WeighpointJSON

/// One vehicle from its weighing to its decision. It is known by its journal entry, not by the
/// controller's sequence number: that number starts again when the controller restarts or its
/// counter wraps, and two vehicles waiting with the same number are two vehicles.
struct PendingVehicle: Sendable {
    /// Its journal entry's id; negative (counted down) for a weighing the journal refused.
    struct ID: Hashable, Comparable, Sendable, CustomStringConvertible {
        let raw: Int64
        static func < (a: ID, b: ID) -> Bool { a.raw < b.raw }
        var description: String { raw >= 0 ? "journal \(raw)" : "unjournalled \(-raw)" }
    }

    let id: ID
    /// As received, with the calibration in force applied.
    var weighing: Weighing
    var receivedAt: Timestamp
    /// The journal entry settled when it is decided (nil: not journalled).
    var journalID: Int64? { id.raw >= 0 ? id.raw : nil }
    /// Taken over from before a stop: its frames and reads were not kept.
    var takenOver: Bool
    /// Invalid from the link (implausible, or from a faulty controller): decided at once, not
    /// at its lane's deadline (its time may be years away).
    var atOnce = false
    /// Its controller sequence went back (`from` → `to`) and no later record has yet shown
    /// whether that began a new run: not decided until one does, or until the hold ends
    /// (then invalid, `sequence_unconfirmed`).
    var unconfirmedSequence: (from: UInt64, to: UInt64)?
    /// Recogniser cameras its frames were handed to, and what each found.
    var recognitionScheduled: Set<String> = []
    var recognized: [String: RecognitionOutcome] = [:]
}

/// What the recogniser found for one vehicle and camera.
struct RecognitionOutcome: Sendable {
    var read: PlateRead?
    /// The plate's region of the frame read best, and when that frame was taken.
    var crop: (jpeg: [UInt8], at: Timestamp)?
    /// Below the threshold: what a person should check.
    var candidates: PlateCandidates?

    static let none = RecognitionOutcome()
}

/// The vehicles weighed and not yet decided.
final class PendingVehicles: @unchecked Sendable {
    private let lock = NSLock()
    private var vehicles: [PendingVehicle.ID: PendingVehicle] = [:]
    private var unjournalled: Int64 = 0

    /// Adds a weighing; `journalID` nil when the journal refused it.
    @discardableResult
    func add(_ w: Weighing, receivedAt: Timestamp, journalID: Int64?, takenOver: Bool = false, atOnce: Bool = false,
             unconfirmedSequence: (from: UInt64, to: UInt64)? = nil) -> PendingVehicle.ID {
        lock.withLock {
            let id: PendingVehicle.ID
            if let journalID {
                id = .init(raw: journalID)
            } else {
                unjournalled -= 1
                id = .init(raw: unjournalled)
            }
            vehicles[id] = PendingVehicle(id: id, weighing: w, receivedAt: receivedAt, takenOver: takenOver, atOnce: atOnce, unconfirmedSequence: unconfirmedSequence)
            return id
        }
    }

    /// Every pending vehicle, in weighing-time order.
    var all: [PendingVehicle] { lock.withLock { Self.ordered(Array(vehicles.values)) } }
    var count: Int { lock.withLock { vehicles.count } }

    /// Removes and returns the vehicles `ready` accepts, in weighing-time order.
    func take(where ready: (PendingVehicle) -> Bool) -> [PendingVehicle] {
        lock.withLock {
            let out = vehicles.values.filter(ready)
            for v in out { vehicles[v.id] = nil }
            return Self.ordered(out)
        }
    }

    /// The record after it began a new run from its sequence: decided as any other.
    func confirmSequence(_ id: PendingVehicle.ID) {
        lock.withLock { vehicles[id]?.unconfirmedSequence = nil }
    }

    /// The record after it began no new run: its sequence is wrong, and it is invalid for `reason`, decided at once.
    func refuteSequence(_ id: PendingVehicle.ID, _ reason: InvalidityReason) {
        lock.withLock {
            guard vehicles[id]?.unconfirmedSequence != nil else { return }
            vehicles[id]?.unconfirmedSequence = nil
            vehicles[id]?.weighing.decodeProblems.append(reason)
            vehicles[id]?.atOnce = true
        }
    }

    /// Notes that the vehicle's frames from `camera` went to the recogniser; false when they
    /// already had (or the vehicle is decided).
    func markScheduled(_ id: PendingVehicle.ID, camera: String) -> Bool {
        lock.withLock { vehicles[id]?.recognitionScheduled.insert(camera).inserted ?? false }
    }

    /// Keeps the recogniser's outcome; one for a vehicle already decided is dropped.
    func record(_ outcome: RecognitionOutcome, camera: String, for id: PendingVehicle.ID) {
        lock.withLock { vehicles[id]?.recognized[camera] = outcome }
    }

    /// The earliest weighing time still pending.
    var oldestTime: Timestamp? { lock.withLock { vehicles.values.map(\.weighing.time).min() } }
    /// The lowest controller sequence still pending.
    var lowestSequence: UInt64? { lock.withLock { vehicles.values.map(\.weighing.seq).min() } }

    private static func ordered(_ v: [PendingVehicle]) -> [PendingVehicle] {
        v.sorted { ($0.weighing.time, $0.id) < ($1.weighing.time, $1.id) }
    }
}

/// Plate reads waiting for their weighings: kept for as long as a weighing could still claim them.
final class PlateReadBuffer: @unchecked Sendable {
    private let lock = NSLock()
    private var reads: [PlateRead] = []
    /// Per camera and plate text, the time of the last read kept.
    private var lastCopy: [String: Timestamp] = [:]
    let windowMicroseconds: Int64

    init(windowMicroseconds: Int64) { self.windowMicroseconds = windowMicroseconds }

    /// Adds reads; returns how many were copies. A read of the text a camera sent within the
    /// match window of the last read of it that was kept is a copy of that read and not kept:
    /// a dense run of copies keeps at most one read per window, so it cannot outweigh a genuine
    /// read of another text near the expected time. The window is measured from the kept read,
    /// not from the latest copy, so copies cannot chain: a run of forged copies of a plate keeps
    /// reads of it near every moment, and a genuine read of that plate still finds one of them
    /// within its window (it is never hidden behind a read long gone).
    @discardableResult
    func add(_ r: [PlateRead]) -> Int {
        lock.withLock {
            var copies = 0
            for read in r {
                let key = read.camera + "\u{0}" + read.normalized
                if let kept = lastCopy[key], abs(read.time.microseconds - kept.microseconds) <= windowMicroseconds {
                    copies += 1
                } else {
                    reads.append(read)
                    lastCopy[key] = read.time
                }
            }
            return copies
        }
    }
    var all: [PlateRead] { lock.withLock { reads } }
    func prune(before t: Timestamp) {
        lock.withLock {
            reads.removeAll { $0.time < t }
            lastCopy = lastCopy.filter { $0.value.microseconds >= t.microseconds - windowMicroseconds }
        }
    }
    /// Reads given to a weighing are spent: a later weighing must not take them again.
    func remove(_ used: Set<PlateRead>) { lock.withLock { reads.removeAll { used.contains($0) } } }
}

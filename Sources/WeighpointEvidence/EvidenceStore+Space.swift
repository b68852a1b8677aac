import Foundation
import GRDB
import Glibc
import WeighpointCore
import WeighpointJSON
import WeighpointSystem

extension EvidenceStore {
    // MARK: Space and retention

    /// Free bytes on the store's file system.
    public func freeBytes() -> Int64 {
        var s = statvfs()
        guard statvfs(directory, &s) == 0 else { return Int64.max }
        return Int64(s.f_bavail) * Int64(s.f_frsize)
    }

    /// Free space kept for the journal and the audit trail below the evidence floor: a quarter
    /// of it, at least 4 MB (SQLite needs room for its WAL and checkpoints too). Nil without a floor.
    public var reserveBytes: Int64? { minimumFreeBytes > 0 ? max(minimumFreeBytes / 4, 4 << 20) : nil }

    /// Refuses a write of the journal or the audit trail when the disk is down to the reserve.
    func checkReserve(for what: String) throws(StoreError) {
        guard let reserve = reserveBytes else { return }
        let free = freeBytes()
        if free < reserve { throw .full("\(what): \(free) bytes free, below the reserve of \(reserve) bytes") }
    }

    /// While evidence is refused: lets it in again once the disk has its floor back with some
    /// room to spare (an operator freed space, or delivered records were deleted). True when
    /// evidence is accepted now. Cheap (one statvfs); the unit calls it every few seconds.
    @discardableResult
    public func recheckSpace() -> Bool {
        guard let why = refusalReason else { return true }
        let free = freeBytes()
        guard free >= minimumFreeBytes + max(minimumFreeBytes / 16, 1 << 20) else { return false }
        lock.withLock { refusing = nil }
        _ = try? appendAudit(event: "storage_resumed", who: "weighpointd", parameter: "evidence", old: why, new: "\(free) bytes free, floor \(minimumFreeBytes)")
        return true
    }

    func checkFreeSpace(adding bytes: Int) throws(StoreError) {
        guard minimumFreeBytes > 0 else { return }
        if freeBytes() - Int64(bytes) < minimumFreeBytes {
            _ = try? applyRetention(maxAgeMicroseconds: nil)
            if freeBytes() - Int64(bytes) < minimumFreeBytes {
                let why = "\(freeBytes()) bytes free, floor \(minimumFreeBytes), nothing delivered left to delete"
                lock.withLock { refusing = why }
                _ = try? appendAudit(event: "storage_full", who: "weighpointd", parameter: "evidence", old: nil, new: why)
                throw .full(why)
            }
        }
    }

    /// Deletes acknowledged records (and images no remaining record uses), oldest first and only
    /// as an unbroken run from the start of the chain, while they are older than `maxAge` or the
    /// disk is below its floor. Never deletes an unacknowledged record or the audit trail.
    /// Returns how many records were deleted.
    @discardableResult
    public func applyRetention(maxAgeMicroseconds: Int64?, now: Timestamp = ClockState.now()) throws(StoreError) -> Int {
        var deleted = 0
        while true {
            let candidate: StoredRecord?
            do {
                candidate = try db.read { db in try Row.fetchOne(db, sql: "SELECT * FROM records ORDER BY seq LIMIT 1").map(Self.record) }
            } catch {
                throw .database("\(error)")
            }
            guard let oldest = candidate, oldest.acknowledgedAt != nil else { break }
            let created = Timestamp(rfc3339: oldest.createdAt) ?? now
            let tooOld = maxAgeMicroseconds.map { created.microseconds(to: now) > $0 } ?? false
            let diskShort = minimumFreeBytes > 0 && freeBytes() < minimumFreeBytes
            guard tooOld || diskShort else { break }
            var orphaned: [String] = []
            do {
                try db.write { db in
                    let paths = try String.fetchAll(db, sql: "SELECT path FROM record_images WHERE seq = ?", arguments: [oldest.seq])
                    try db.execute(sql: "DELETE FROM record_images WHERE seq = ?", arguments: [oldest.seq])
                    for p in paths where try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM record_images WHERE path = ?", arguments: [p]) == 0 {
                        orphaned.append(p)
                    }
                    try db.execute(sql: "DELETE FROM records WHERE seq = ?", arguments: [oldest.seq])
                    // The chain stays verifiable from here: the deleted record's seq and hash.
                    try Self.setMeta(db, "records_anchor", "\(oldest.seq) \(oldest.hash)")
                }
            } catch {
                throw .database("\(error)")
            }
            for p in orphaned { unlink(directory + "/" + p) }
            deleted += 1
        }
        if deleted > 0 { lock.withLock { refusing = nil } }
        return deleted
    }


    func checkClockStep() {
        let offset = SystemWallClock().now().microseconds - SystemMonotonicClock().microseconds()
        let previous = lock.withLock { () -> Int64? in
            let p = lastClockOffset
            lastClockOffset = offset
            return p
        }
        if let previous, abs(offset - previous) > 1_000_000 {
            _ = try? appendAudit(event: "clock_step", who: "system", parameter: "clock", old: "offset \(previous) µs", new: "offset \(offset) µs (step \(offset - previous) µs)")
        }
    }

    /// A signing key other than the last start's is a key change, recorded in the audit trail.
    func recordKey() throws(StoreError) {
        let current: String
        do { current = try key.keyID() } catch { throw .signing(error) }
        let previous: String?
        do {
            previous = try db.read { db in try Self.meta(db, "signing_key_id") }
        } catch {
            throw .database("\(error)")
        }
        guard previous != current else { return }
        if previous != nil {
            try appendAudit(event: "key_change", who: "weighpointd", parameter: "signing_key", old: previous, new: "\(current) (\(key.algorithm.envelopeName))")
        }
        do {
            try db.write { db in try Self.setMeta(db, "signing_key_id", current) }
        } catch {
            throw .database("\(error)")
        }
    }

    /// A value the unit keeps with its evidence (`unit.` keys), e.g. the calibration last applied.
    public func unitValue(_ key: String) throws(StoreError) -> String? {
        do {
            return try db.read { db in try Self.meta(db, "unit." + key) }
        } catch {
            throw .database("\(error)")
        }
    }

    public func setUnitValue(_ key: String, _ value: String) throws(StoreError) {
        do {
            try db.write { db in try Self.setMeta(db, "unit." + key, value) }
        } catch {
            throw .database("\(error)")
        }
    }

    /// Lets new evidence in again after an operator freed space.
    public func resumeAcceptingEvidence() { lock.withLock { refusing = nil } }
}

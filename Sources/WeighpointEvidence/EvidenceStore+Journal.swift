import Foundation
import GRDB
import Glibc
import WeighpointCore
import WeighpointJSON
import WeighpointSystem

extension EvidenceStore {
    // MARK: weighings taken from the controller and not yet decided

    /// Keeps a weighing's raw record block (a WIM trace line) durably until it is decided: the
    /// controller forgets a record once acknowledged, and the decision comes seconds later.
    /// Call before acknowledging; returns the journal id to settle it with.
    /// Below the evidence floor the journal goes on, down to `reserveBytes`: a weighing journalled
    /// is still decided when space is back, one refused stays with the controller.
    public func journalWeighing(controllerSeq: UInt64, block: String, receivedAt: Timestamp) throws(StoreError) -> Int64 {
        try checkReserve(for: "journal")
        do {
            return try db.write { db in
                try db.execute(sql: "INSERT INTO pending_weighings (controller_seq, block, received_at) VALUES (?,?,?)",
                               arguments: [Int64(bitPattern: controllerSeq), block, receivedAt.description])
                return db.lastInsertedRowID
            }
        } catch {
            throw .database("\(error)")
        }
    }

    /// Weighings decided without a record (or whose record was refused): no longer pending.
    public func settleJournal(_ ids: [Int64]) throws(StoreError) {
        guard !ids.isEmpty else { return }
        do {
            try db.write { db in
                for id in ids { try db.execute(sql: "DELETE FROM pending_weighings WHERE id = ?", arguments: [id]) }
            }
        } catch {
            throw .database("\(error)")
        }
    }

    /// Weighings journalled and not settled: the ones a stop (or a crash) left undecided, oldest
    /// first.
    public func journaledWeighings() throws(StoreError) -> [(id: Int64, controllerSeq: UInt64, block: String)] {
        do {
            return try db.read { db in
                try Row.fetchAll(db, sql: "SELECT id, controller_seq, block FROM pending_weighings ORDER BY id").map { r in
                    (r["id"], UInt64(bitPattern: r["controller_seq"] as Int64), r["block"])
                }
            }
        } catch {
            throw .database("\(error)")
        }
    }
}

import Foundation
import GRDB

/// Read-only access to a data directory, for the command line and auditors: no key, no writes.
public struct EvidenceArchive {
    public let directory: String
    let db: DatabaseQueue

    public init(directory: String) throws(StoreError) {
        self.directory = directory
        guard FileManager.default.fileExists(atPath: directory + "/evidence.sqlite") else {
            throw .io(directory, "no evidence.sqlite here: not a Weighpoint data directory")
        }
        var config = Configuration()
        config.readonly = true
        do {
            db = try DatabaseQueue(path: directory + "/evidence.sqlite", configuration: config)
        } catch {
            throw .database("\(error)")
        }
    }

    public func records(from seq: Int64 = 0, limit: Int = Int(Int32.max)) throws(StoreError) -> [StoredRecord] {
        do {
            return try db.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM records WHERE seq >= ? ORDER BY seq LIMIT ?", arguments: [seq, limit]).map(EvidenceStore.record)
            }
        } catch {
            throw .database("\(error)")
        }
    }

    public func auditEntries() throws(StoreError) -> [AuditEntry] {
        do {
            return try db.read { db in
                try Row.fetchAll(db, sql: "SELECT seq, body, event FROM audit ORDER BY seq").map {
                    AuditEntry(seq: $0["seq"], body: Array($0["body"] as Data), event: $0["event"])
                }
            }
        } catch {
            throw .database("\(error)")
        }
    }
}

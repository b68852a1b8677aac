import WeighpointCrypto
import Foundation
import GRDB
import WeighpointCore
import WeighpointJSON

/// A change to record in the audit trail: what happened, who did it, the parameter, old and new.
public struct AuditChange: Sendable {
    public var event: String
    public var who: String
    public var parameter: String
    public var old: String?
    public var new: String?

    public init(event: String, who: String, parameter: String, old: String?, new: String?) {
        self.event = event
        self.who = who
        self.parameter = parameter
        self.old = old
        self.new = new
    }
}

/// One entry of the audit trail.
public struct AuditEntry: Sendable {
    public let seq: Int64
    public let body: [UInt8]
    public let event: String
    public var json: JSONValue? { parseJSON(body) }
}

extension EvidenceStore {
    /// Appends a signed entry to the audit trail (OIML D 31 §6.2.3.6): timestamp, who, the
    /// parameter, old and new value, and the event counter (its sequence). Refused when full.
    @discardableResult
    public func appendAudit(event: String, who: String, parameter: String, old: String?, new: String?, time: Timestamp = ClockState.now()) throws(StoreError) -> AuditEntry {
        try appendAudit([AuditChange(event: event, who: who, parameter: parameter, old: old, new: new)], time: time)[0]
    }

    /// Appends several entries in one transaction: all of them, or none (a change of several
    /// parameters is recorded whole or refused whole, e.g. when the trail would overflow).
    @discardableResult
    public func appendAudit(_ changes: [AuditChange], time: Timestamp = ClockState.now()) throws(StoreError) -> [AuditEntry] {
        try checkReserve(for: "audit trail")
        do {
            return try db.write { db -> [AuditEntry] in
                let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit") ?? 0
                guard count + changes.count <= auditCapacity else { throw StoreError.auditFull(auditCapacity) }
                var last = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").map { (seq: $0["seq"] as Int64, hash: $0["hash"] as String) }
                var out: [AuditEntry] = []
                for c in changes {
                    let seq: Int64 = last.map { $0.seq + 1 } ?? 1
                    let body = JSONValue.object([
                        "schema": .string("weighpoint.audit"), "schema_version": .int(1), "device_id": .string(identity.deviceID),
                        "seq": .int(seq), "prev_hash": last.map { .string($0.hash) } ?? .null,
                        "time": .object(["utc": .string(time.description), "clock": ClockState.read().json]),
                        "event": .string(c.event), "who": .string(c.who), "parameter": .string(c.parameter),
                        "old": c.old.map(JSONValue.string) ?? .null, "new": c.new.map(JSONValue.string) ?? .null,
                        "software": .object(["version": .string(identity.softwareVersion), "sha256": .string(identity.softwareSHA256)]),
                    ]).canonicalBytes
                    let sig = try key.sign(body)
                    let hash = try Digest.hexDigest(of: body)
                    try db.execute(
                        sql: "INSERT INTO audit (seq, body, hash, alg, key_id, signature, event, created_at) VALUES (?,?,?,?,?,?,?,?)",
                        arguments: [seq, Data(body), hash, key.algorithm.envelopeName, try key.keyID(), Data(sig), c.event, time.description])
                    out.append(AuditEntry(seq: seq, body: body, event: c.event))
                    last = (seq, hash)
                }
                return out
            }
        } catch let e as StoreError {
            throw e
        } catch let e as SigningError {
            throw .signing(e)
        } catch {
            throw .database("\(error)")
        }
    }

    /// Audit entries, newest last.
    public func auditEntries(last n: Int = Int.max) throws(StoreError) -> [AuditEntry] {
        do {
            return try db.read { db in
                try Row.fetchAll(db, sql: "SELECT seq, body, event FROM (SELECT * FROM audit ORDER BY seq DESC LIMIT ?) ORDER BY seq", arguments: [min(n, Int(Int32.max))]).map {
                    AuditEntry(seq: $0["seq"], body: Array($0["body"] as Data), event: $0["event"])
                }
            }
        } catch {
            throw .database("\(error)")
        }
    }

    /// At every start: the software identity, and a change event when it differs from the last
    /// start's. With the trail full, a changed identity cannot be recorded, so the store refuses
    /// to open; an unchanged one starts without an entry.
    func recordStart() throws(StoreError) {
        let previous: String?
        do {
            previous = try db.read { db in try Self.meta(db, "software_identity") }
        } catch {
            throw .database("\(error)")
        }
        let current = identity.software
        do {
            if let previous, previous != current {
                try appendAudit(event: "software_change", who: "weighpointd", parameter: "software", old: previous, new: current)
            }
            try appendAudit(event: "start", who: "weighpointd", parameter: "software", old: nil, new: current)
        } catch .auditFull(let n) {
            if previous != nil && previous != current { throw .auditFull(n) }
        }
        do {
            try db.write { db in try Self.setMeta(db, "software_identity", current) }
        } catch {
            throw .database("\(error)")
        }
    }
}

import WeighpointEvidence
import WeighpointCore
import WeighpointCrypto
import Foundation
import WeighpointSystem
import GRDB
import Glibc
import WeighpointJSON

/// The receiving side of delivery: what a case system keeps. Verifies each record's signature
/// with a key registered for its device, its chain per device and its images; stores what
/// passes in the unit's own layout (one directory per device, so `weighpoint verify` checks it),
/// deduplicates by (device, sequence) and refuses a different body under a known key.
public final class CaseLedger: @unchecked Sendable {
    public let directory: String
    public let registry: any DeviceKeyRegistry
    private let lock = NSLock()
    private var databases: [String: DatabaseQueue] = [:]

    /// What became of a record.
    public enum Outcome: Sendable, Equatable {
        case accepted(receipt: String)
        /// Seen before with the same bytes: acknowledged again.
        case duplicate(receipt: String)
        /// Same device and sequence, different bytes.
        case conflict(String)
        /// Not acceptable as sent (signature, chain, missing images, malformed).
        case rejected(String)
    }

    /// `registry`: which keys may sign for which device.
    public init(directory: String, registry: any DeviceKeyRegistry) throws {
        self.directory = directory
        self.registry = registry
        try FileManager.default.createDirectory(atPath: directory + "/incoming", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory + "/devices", withIntermediateDirectories: true)
    }

    // MARK: Images

    /// Stores an image named by its SHA-256 (`PUT /v1/evidence/{sha256}`); false when the bytes do
    /// not hash to the name. Idempotent.
    public func storeImage(sha256 name: String, bytes: [UInt8]) throws -> Bool {
        guard name.count == 64, name.allSatisfy({ $0.isHexDigit && !$0.isUppercase }), (try Digest.hexDigest(of: bytes)) == name else { return false }
        let path = directory + "/incoming/" + name
        if FileManager.default.fileExists(atPath: path) { return true }
        try durableWrite(bytes, to: path)
        return true
    }

    private func incomingImage(_ sha: String) -> String? {
        let path = directory + "/incoming/" + sha
        guard FileManager.default.fileExists(atPath: path), (try? Digest.hexDigest(ofFileAt: path)) == sha else { return nil }
        return path
    }

    // MARK: Records

    public func accept(_ e: RecordEnvelope) -> Outcome {
        lock.lock()
        defer { lock.unlock() }
        do {
            return try acceptLocked(e)
        } catch {
            return .rejected("receiver storage error: \(error)")
        }
    }

    private func acceptLocked(_ e: RecordEnvelope) throws -> Outcome {
        // The device id names a directory: checked before anything is built from it.
        guard DeviceID.isValid(e.deviceID) else {
            return .rejected("device id \(String(reflecting: String(e.deviceID.prefix(80)))) is not a device id (\(DeviceID.rule))")
        }
        let registered = registry.keys(for: e.deviceID)
        guard !registered.isEmpty else {
            if let problem = registry.problems(for: e.deviceID).first {
                return .rejected("key \(e.keyID.prefix(16))… cannot be checked: device \(e.deviceID)'s registered key is not usable (\(problem.prefix(200))); the receiver's operator must replace it")
            }
            return .rejected("key \(e.keyID.prefix(16))… is not trusted: device \(e.deviceID) is not registered with this receiver")
        }
        guard let key = registered.first(where: { (try? $0.keyID()) == e.keyID }) else {
            return .rejected("key \(e.keyID.prefix(16))… is not trusted for device \(e.deviceID): it is not registered for it")
        }
        let verifier = e.algorithm == .sm2 ? try SigningKey.load(pem: Data(try key.publicKeyPEM().utf8), source: "trusted key", distinguishingID: e.distinguishingID ?? defaultSM2DistinguishingID) : key
        guard verifier.verify(e.signature, over: e.body) else { return .rejected("signature does not verify") }
        guard let json = parseJSON(e.body), case .object(let o) = json, JSONValue.object(o).canonicalBytes == e.body else {
            return .rejected("record is not canonical JSON")
        }
        let fields = SignedRecordFields(json)
        guard fields.deviceID == e.deviceID, fields.seq == e.seq else {
            return .rejected("envelope says device \(e.deviceID) seq \(e.seq), the signed record says otherwise")
        }
        let hash = try Digest.hexDigest(of: e.body)
        let receipt = "ack-\(e.deviceID)-\(e.seq)-\(hash.prefix(16))"
        let db = try database(for: e.deviceID, key: key)
        let existing = try db.read { db in try Row.fetchOne(db, sql: "SELECT hash, receipt FROM records WHERE seq = ?", arguments: [e.seq]) }
        if let existing {
            if (existing["hash"] as String) == hash { return .duplicate(receipt: existing["receipt"] ?? receipt) }
            return .conflict("device \(e.deviceID) record \(e.seq) was received before with different content (sha256 \((existing["hash"] as String).prefix(16))…, now \(hash.prefix(16))…)")
        }
        let last = try db.read { db in try Row.fetchOne(db, sql: "SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1") }
        let prev = fields.prevHash
        if let last {
            let lastSeq: Int64 = last["seq"]
            guard e.seq == lastSeq + 1 else { return .rejected("out of sequence: device \(e.deviceID) is at \(lastSeq), expected \(lastSeq + 1), got \(e.seq)") }
            guard prev == (last["hash"] as String) else { return .rejected("chain broken: prev_hash does not name record \(lastSeq)") }
        }
        // Images must have arrived (PUT) before the record.
        var images: [(sha: String, path: String, role: String, ext: String, size: Int)] = []
        for item in fields.evidence {
            guard let sha = item.sha256 else { return .rejected("evidence item without sha256") }
            guard let path = incomingImage(sha) else { return .rejected("image \(sha) has not been received (PUT /v1/evidence/\(sha) first)") }
            let media = item.mediaType ?? "image/jpeg"
            images.append((sha, path, item.role ?? "?", media == "image/jpeg" ? "jpg" : (media.split(separator: "/").last.map(String.init) ?? "bin"), Int(item.size ?? 0)))
        }
        let deviceDir = directory + "/devices/" + e.deviceID
        var rel: [String] = []
        for img in images {
            let relPath = "images/" + img.sha.prefix(2) + "/" + img.sha + "." + img.ext
            let target = deviceDir + "/" + relPath
            if !FileManager.default.fileExists(atPath: target) {
                try FileManager.default.createDirectory(atPath: deviceDir + "/images/" + img.sha.prefix(2), withIntermediateDirectories: true)
                try durableWrite(Array(try Data(contentsOf: URL(fileURLWithPath: img.path))), to: target)
            }
            rel.append(relPath)
        }
        let body = e.body, sig = e.signature, alg = e.algorithm.envelopeName, kid = e.keyID, seq = e.seq
        let decision = fields.decision ?? "unknown"
        let plate = fields.plate
        let utc = fields.committedAt ?? ""
        let columns = fields.columns
        try db.write { db in
            if last == nil, let prev {
                // The first record this receiver holds for the device anchors its chain.
                try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('records_anchor', ?)", arguments: ["\(seq - 1) \(prev)"])
            }
            try db.execute(
                sql: """
                    INSERT INTO records (seq, body, hash, alg, key_id, signature, decision, plate, created_at, acknowledged_at, receipt,
                                         controller_seq, lane, gross_kg, weighed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
                    """,
                arguments: [
                    seq, Data(body), hash, alg, kid, Data(sig), decision, plate, utc, ClockState.now().description, receipt,
                    columns.controllerSeq, columns.lane, columns.grossKg, columns.weighedAt,
                ])
            for (img, path) in zip(images, rel) {
                try db.execute(sql: "INSERT OR IGNORE INTO record_images (seq, sha256, role, path, size) VALUES (?,?,?,?,?)", arguments: [seq, img.sha, img.role, path, img.size])
            }
        }
        return .accepted(receipt: receipt)
    }

    /// The per-device database, in the unit's schema; its key goes to keys/ for `verify`.
    private func database(for device: String, key: SigningKey) throws -> DatabaseQueue {
        if let db = databases[device] { return db }
        let dir = directory + "/devices/" + device
        try FileManager.default.createDirectory(atPath: dir + "/keys", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/images", withIntermediateDirectories: true)
        let keyPath = dir + "/keys/" + (try key.keyID()) + ".pem"
        if !FileManager.default.fileExists(atPath: keyPath) { try (try key.publicKeyPEM()).write(toFile: keyPath, atomically: true, encoding: .utf8) }
        var config = Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        let db = try DatabaseQueue(path: dir + "/evidence.sqlite", configuration: config)
        try db.write { try EvidenceStore.migrate($0) }
        databases[device] = db
        return db
    }

    /// Every record held: device, sequence, decision, plate, when it was received. A directory
    /// under `devices/` that is not a device's (a stray name, no database) is left out, not an
    /// error: `verify` names it.
    public static func list(_ directory: String) throws -> [(device: String, seq: Int64, decision: String, plate: String?, receivedAt: String)] {
        var out: [(String, Int64, String, String?, String)] = []
        for device in try FileManager.default.contentsOfDirectory(atPath: directory + "/devices").sorted() where DeviceID.isValid(device) {
            guard let archive = try? EvidenceArchive(directory: directory + "/devices/" + device), let records = try? archive.records() else { continue }
            for r in records { out.append((device, r.seq, r.decision, r.plate, r.acknowledgedAt ?? "")) }
        }
        return out
    }

    /// Verifies everything held, per device (as `weighpoint verify` does); a directory that is
    /// not a device's is a problem named, not a failure of the whole.
    public static func verify(_ directory: String) -> [ChainProblem] {
        let devices = ((try? FileManager.default.contentsOfDirectory(atPath: directory + "/devices")) ?? []).sorted()
        return devices.flatMap { d -> [ChainProblem] in
            guard DeviceID.isValid(d) else { return [ChainProblem(chain: "devices/" + String(reflecting: d), seq: nil, message: "not a device id (\(DeviceID.rule))")] }
            return EvidenceStore.verifyDirectory(directory + "/devices/" + d)
        }
    }
}

import Foundation
import GRDB
import Glibc
import WeighpointCore
import WeighpointSystem
import WeighpointJSON

/// An image to keep as evidence with a record.
public struct EvidenceImage: Sendable {
    /// `plate`, `front`, `rear`, `side`, `plate_crop` …
    public var role: String
    public var camera: String
    public var capturedAt: Timestamp
    public var mediaType: String
    public var bytes: [UInt8]

    public init(role: String, camera: String, capturedAt: Timestamp, mediaType: String = "image/jpeg", bytes: [UInt8]) {
        self.role = role
        self.camera = camera
        self.capturedAt = capturedAt
        self.mediaType = mediaType
        self.bytes = bytes
    }
}

/// Who and what produced a record: carried in every record.
public struct UnitIdentity: Sendable {
    public var deviceID: String
    /// Station identity (code, site type, road, stake, direction, coordinates …).
    public var station: JSONObject
    /// Instrument: model, serial, accuracy class, verification certificate and its validity.
    public var instrument: JSONObject
    /// The calibration profile of records whose content does not name the one in force.
    public var calibrationProfileSHA256: String
    public var softwareVersion: String
    public var softwareSHA256: String

    public init(deviceID: String, station: JSONObject, instrument: JSONObject, calibrationProfileSHA256: String, softwareVersion: String, softwareSHA256: String) {
        self.deviceID = deviceID
        self.station = station
        self.instrument = instrument
        self.calibrationProfileSHA256 = calibrationProfileSHA256
        self.softwareVersion = softwareVersion
        self.softwareSHA256 = softwareSHA256
    }

    var software: String { "\(softwareVersion) sha256:\(softwareSHA256)" }
}

/// A record as stored: its canonical signed bytes and where it stands.
public struct StoredRecord: Sendable {
    public let seq: Int64
    /// RFC 8785 canonical JSON: exactly the bytes the signature covers.
    public let body: [UInt8]
    /// SHA-256 of `body`, hex: what the next record's `prev_hash` names.
    public let hash: String
    public let algorithm: SignatureAlgorithm
    public let keyID: String
    public let signature: [UInt8]
    public let decision: String
    public let plate: String?
    public let acknowledgedAt: String?

    public var json: JSONValue? { parseJSON(body) }
}

/// A store operation that did not happen, and why; nothing already stored is affected.
public enum StoreError: Error, CustomStringConvertible {
    case io(String, String)
    case database(String)
    case signing(SigningError)
    /// The disk is at its floor and nothing delivered can be deleted: new evidence is refused.
    case full(String)
    /// The audit trail reached its capacity: legally relevant changes are refused.
    case auditFull(Int)

    public var description: String {
        switch self {
        case .io(let path, let why): "\(path): \(why)"
        case .database(let why): "evidence database: \(why)"
        case .signing(let e): "signing: \(e)"
        case .full(let why): "evidence store full: \(why); new evidence is refused until delivered records can be deleted"
        case .auditFull(let n): "audit trail full (\(n) entries): legally relevant changes are refused; export the audit trail and have the unit's capacity raised by the verification authority"
        }
    }
}

/// Durable evidence: signed, hash-chained records in SQLite (WAL, synchronous=FULL) and
/// content-addressed image files, plus the audit trail. One commit per vehicle; images reach the
/// disk (written, fsynced, renamed, directory fsynced) before the record row is committed.
public final class EvidenceStore: @unchecked Sendable {
    public let directory: String
    let db: DatabasePool
    let key: SigningKey
    public let identity: UnitIdentity
    public let auditCapacity: Int
    /// Free space below which retention deletes delivered records, and new evidence is refused
    /// when nothing can be deleted.
    public var minimumFreeBytes: Int64
    private let lock = NSLock()
    private var refusing: String?
    /// This process's hold on the data directory (one writer per directory).
    private let directoryLock: DirectoryLock

    public var databasePath: String { directory + "/evidence.sqlite" }

    /// The device id a data directory was last opened with, read without opening it for writing.
    public static func storedDeviceID(directory: String) -> String? {
        var config = Configuration()
        config.readonly = true
        guard let q = try? DatabaseQueue(path: directory + "/evidence.sqlite", configuration: config) else { return nil }
        return try? q.read { db in try meta(db, "device_id") }
    }

    /// The SM2 distinguishing ID records are signed with (travels in delivery envelopes).
    public var distinguishingID: String { key.distinguishingID }

    /// Opens (creating if needed) the store in `directory`, records the start in the audit
    /// trail, and checks the tail of both chains. Problems found are returned in `startupProblems`
    /// and written to the audit trail; the store still opens so nothing is lost.
    public init(directory: String, key: SigningKey, identity: UnitIdentity, auditCapacity: Int = 100_000, minimumFreeBytes: Int64 = 0) throws(StoreError) {
        self.directory = directory
        self.key = key
        self.identity = identity
        self.auditCapacity = auditCapacity
        self.minimumFreeBytes = minimumFreeBytes
        do {
            try FileManager.default.createDirectory(atPath: directory + "/images", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: directory + "/keys", withIntermediateDirectories: true)
        } catch {
            throw .io(directory, "\(error)")
        }
        directoryLock = try DirectoryLock.acquire(directory)
        var config = Configuration()
        config.prepareDatabase { db in
            // FULL: every commit is on disk when it returns (NORMAL may lose the last ones).
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            db = try DatabasePool(path: directory + "/evidence.sqlite", configuration: config)
            try db.write { db in try Self.migrate(db) }
        } catch {
            throw .database("\(error)")
        }
        // Public keys by key id, so `weighpoint verify` works on the data directory alone.
        do {
            let pubPath = directory + "/keys/" + (try key.keyID()) + ".pem"
            if !FileManager.default.fileExists(atPath: pubPath) {
                try (try key.publicKeyPEM()).write(toFile: pubPath, atomically: true, encoding: .utf8)
            }
        } catch let e as SigningError {
            throw .signing(e)
        } catch {
            throw .io(directory + "/keys", "\(error)")
        }
        do {
            try db.write { db in try Self.setMeta(db, "device_id", identity.deviceID) }
        } catch {
            throw .database("\(error)")
        }
        try recordStart()
        try recordKey()
        startupProblems = verifyTail(records: 1000)
        if !startupProblems.isEmpty {
            _ = try? appendAudit(event: "chain_check", who: "weighpointd", parameter: "records", old: nil, new: startupProblems.prefix(20).map(\.description).joined(separator: "; "))
        }
    }

    /// What the startup check of the chains found (empty when intact).
    public private(set) var startupProblems: [ChainProblem] = []

    static func migrate(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE IF NOT EXISTS records (
                seq INTEGER PRIMARY KEY, body BLOB NOT NULL, hash TEXT NOT NULL, alg TEXT NOT NULL,
                key_id TEXT NOT NULL, signature BLOB NOT NULL, decision TEXT NOT NULL, plate TEXT,
                created_at TEXT NOT NULL, acknowledged_at TEXT, receipt TEXT);
            CREATE TABLE IF NOT EXISTS pending_weighings (
                id INTEGER PRIMARY KEY AUTOINCREMENT, controller_seq INTEGER NOT NULL, block TEXT NOT NULL,
                received_at TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS record_images (
                seq INTEGER NOT NULL REFERENCES records(seq), sha256 TEXT NOT NULL, role TEXT NOT NULL,
                path TEXT NOT NULL, size INTEGER NOT NULL, PRIMARY KEY (seq, sha256, role));
            CREATE INDEX IF NOT EXISTS record_images_sha ON record_images(sha256);
            CREATE TABLE IF NOT EXISTS audit (
                seq INTEGER PRIMARY KEY, body BLOB NOT NULL, hash TEXT NOT NULL, alg TEXT NOT NULL,
                key_id TEXT NOT NULL, signature BLOB NOT NULL, event TEXT NOT NULL, created_at TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            """)
    }

    // MARK: Records

    /// Whether new evidence is accepted; nil when it is, else why not.
    public var refusalReason: String? { lock.withLock { refusing } }

    /// Commits one record: images to disk first, then the signed record row, in one SQLite
    /// transaction. `content` is the record's domain part (weighing, plates, assessment …); the
    /// store adds schema, identity, sequence, previous hash, time and the evidence list.
    @discardableResult
    /// Commits a record; `settling` names journalled weighings (`journalWeighing`) the record
    /// decides, cleared in the same transaction: a weighing is either still pending or recorded,
    /// never both and never neither.
    public func commit(_ content: JSONObject, images: [EvidenceImage], time: Timestamp = ClockState.now(), clock: ClockState = .read(),
                       settling journal: [Int64] = []) throws(StoreError) -> StoredRecord {
        if let why = refusalReason { throw .full(why) }
        checkClockStep()
        try checkFreeSpace(adding: images.reduce(0) { $0 + $1.bytes.count })
        var evidence: [JSONValue] = []
        var files: [(sha: String, role: String, path: String, size: Int)] = []
        for img in images {
            let sha: String, path: String
            do {
                (sha, path) = try writeImage(img)
            } catch {
                _ = try? appendAudit(event: "storage_error", who: "weighpointd", parameter: "images", old: nil, new: error.description)
                throw error
            }
            files.append((sha, img.role, path, img.bytes.count))
            evidence.append(.object([
                "role": .string(img.role), "camera": .string(img.camera), "captured_at": .string(img.capturedAt.description),
                "sha256": .string(sha), "size": .int(Int64(img.bytes.count)), "media_type": .string(img.mediaType),
            ]))
        }
        do {
            return try db.write { db -> StoredRecord in
                let last = try Row.fetchOne(db, sql: "SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1")
                let anchor = try Self.meta(db, "records_anchor")
                let seq: Int64 = last.map { ($0["seq"] as Int64) + 1 } ?? (anchor.map { Int64($0.split(separator: " ")[0])! + 1 } ?? 1)
                let prev: JSONValue = last.map { .string($0["hash"]) } ?? anchor.map { .string(String($0.split(separator: " ")[1])) } ?? .null
                var o = content
                o["schema"] = .string("weighpoint.record")
                o["schema_version"] = .int(1)
                o["device_id"] = .string(identity.deviceID)
                o["station"] = .object(identity.station)
                o["seq"] = .int(seq)
                o["prev_hash"] = prev
                o["time"] = .object(["utc": .string(time.description), "clock": clock.json])
                o["evidence"] = .array(evidence)
                o["instrument"] = .object(identity.instrument)
                if o["calibration_profile_sha256"] == nil { o["calibration_profile_sha256"] = .string(identity.calibrationProfileSHA256) }
                o["software"] = .object(["version": .string(identity.softwareVersion), "sha256": .string(identity.softwareSHA256)])
                let body = JSONValue.object(o).canonicalBytes
                let record = try signed(seq: seq, body: body, decision: o["assessment"]?["decision"]?.stringValue ?? "unknown", plate: o["plate"]?.stringValue)
                try db.execute(
                    sql: "INSERT INTO records (seq, body, hash, alg, key_id, signature, decision, plate, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
                    arguments: [seq, Data(body), record.hash, record.algorithm.envelopeName, record.keyID, Data(record.signature), record.decision, record.plate, time.description])
                for f in files {
                    try db.execute(sql: "INSERT OR IGNORE INTO record_images (seq, sha256, role, path, size) VALUES (?,?,?,?,?)", arguments: [seq, f.sha, f.role, f.path, f.size])
                }
                for id in journal { try db.execute(sql: "DELETE FROM pending_weighings WHERE id = ?", arguments: [id]) }
                return record
            }
        } catch let e as StoreError {
            throw e
        } catch {
            throw .database("\(error)")
        }
    }

    // MARK: weighings taken from the controller and not yet decided

    /// Keeps a weighing's raw record block (a WIM trace line) durably until it is decided: the
    /// controller forgets a record once acknowledged, and the decision comes seconds later.
    /// Call before acknowledging; returns the journal id to settle it with.
    public func journalWeighing(controllerSeq: UInt64, block: String, receivedAt: Timestamp) throws(StoreError) -> Int64 {
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

    private func signed(seq: Int64, body: [UInt8], decision: String, plate: String?) throws -> StoredRecord {
        let sig = try key.sign(body)
        return StoredRecord(seq: seq, body: body, hash: try Digest.hexDigest(of: body), algorithm: key.algorithm, keyID: try key.keyID(), signature: sig, decision: decision, plate: plate, acknowledgedAt: nil)
    }

    /// Writes an image under images/ab/<sha256>.<ext>: temp file, fsync, rename, directory fsync.
    /// An existing file with the same name is kept if its content still hashes right.
    private func writeImage(_ img: EvidenceImage) throws(StoreError) -> (sha: String, relativePath: String) {
        let sha: String
        do { sha = try Digest.hexDigest(of: img.bytes) } catch { throw .io("image", "\(error)") }
        let ext = img.mediaType == "image/jpeg" ? "jpg" : (img.mediaType.split(separator: "/").last.map(String.init) ?? "bin")
        let relDir = "images/" + sha.prefix(2)
        let rel = relDir + "/" + sha + "." + ext
        let dir = directory + "/" + relDir, path = directory + "/" + rel
        if FileManager.default.fileExists(atPath: path), (try? Digest.hexDigest(ofFileAt: path)) == sha { return (sha, rel) }
        if mkdir(dir, 0o755) == 0 {
            // A new subdirectory is durable only once its parent's entry is on disk.
            let pfd = open(directory + "/images", O_RDONLY | O_DIRECTORY)
            guard pfd >= 0, fsync(pfd) == 0 else { throw .io(directory + "/images", "fsync directory: \(String(cString: strerror(errno)))") }
            close(pfd)
        } else if errno != EEXIST {
            throw .io(dir, String(cString: strerror(errno)))
        }
        do {
            try durableWrite(img.bytes, to: path)
        } catch let e as StoreError {
            throw e
        } catch {
            throw .io(path, "\(error)")
        }
        return (sha, rel)
    }

    /// Records in sequence order from `seq`.
    public func records(from seq: Int64 = 0, limit: Int = Int.max) throws(StoreError) -> [StoredRecord] {
        do {
            return try db.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM records WHERE seq >= ? ORDER BY seq LIMIT ?", arguments: [seq, min(limit, Int(Int32.max))]).map(Self.record)
            }
        } catch {
            throw .database("\(error)")
        }
    }

    /// The newest `n` records, oldest of them first.
    public func records(last n: Int) throws(StoreError) -> [StoredRecord] {
        do {
            return try db.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM (SELECT * FROM records ORDER BY seq DESC LIMIT ?) ORDER BY seq", arguments: [min(n, Int(Int32.max))]).map(Self.record)
            }
        } catch {
            throw .database("\(error)")
        }
    }

    /// How many records the store holds (retention may have deleted delivered ones).
    public func recordCount() throws(StoreError) -> Int {
        do {
            return try db.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM records") ?? 0 }
        } catch {
            throw .database("\(error)")
        }
    }

    /// The newest record, if any.
    public func lastRecord() throws(StoreError) -> StoredRecord? {
        do {
            return try db.read { db in try Row.fetchOne(db, sql: "SELECT * FROM records ORDER BY seq DESC LIMIT 1").map(Self.record) }
        } catch {
            throw .database("\(error)")
        }
    }

    public func record(_ seq: Int64) throws(StoreError) -> StoredRecord? {
        try records(from: seq, limit: 1).first { $0.seq == seq }
    }

    /// Image files of a record: (role, sha256, absolute path).
    public func images(of seq: Int64) throws(StoreError) -> [(role: String, sha256: String, path: String)] {
        do {
            return try db.read { db in
                try Row.fetchAll(db, sql: "SELECT role, sha256, path FROM record_images WHERE seq = ? ORDER BY rowid", arguments: [seq]).map {
                    ($0["role"], $0["sha256"], directory + "/" + ($0["path"] as String))
                }
            }
        } catch {
            throw .database("\(error)")
        }
    }

    static func record(_ r: Row) -> StoredRecord {
        StoredRecord(
            seq: r["seq"], body: Array(r["body"] as Data), hash: r["hash"], algorithm: SignatureAlgorithm(envelopeName: r["alg"]) ?? .ed25519,
            keyID: r["key_id"], signature: Array(r["signature"] as Data), decision: r["decision"], plate: r["plate"], acknowledgedAt: r["acknowledged_at"])
    }

    /// Marks a record acknowledged by the case system; only acknowledged records may be deleted.
    public func acknowledge(_ seq: Int64, receipt: String, at time: Timestamp = ClockState.now()) throws(StoreError) {
        do {
            try db.write { db in
                try db.execute(sql: "UPDATE records SET acknowledged_at = ?, receipt = ? WHERE seq = ? AND acknowledged_at IS NULL", arguments: [time.description, receipt, seq])
            }
        } catch {
            throw .database("\(error)")
        }
    }

    /// How many records wait for the case system's acknowledgement (a count, no bodies read).
    public func unacknowledgedCount() throws(StoreError) -> Int {
        do {
            return try db.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM records WHERE acknowledged_at IS NULL") ?? 0 }
        } catch {
            throw .database("\(error)")
        }
    }

    /// Records not yet acknowledged, oldest first (the delivery backlog).
    public func unacknowledged(limit: Int = 1000) throws(StoreError) -> [StoredRecord] {
        do {
            return try db.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM records WHERE acknowledged_at IS NULL ORDER BY seq LIMIT ?", arguments: [limit]).map(Self.record)
            }
        } catch {
            throw .database("\(error)")
        }
    }

    static func meta(_ db: Database, _ key: String) throws -> String? {
        try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key])
    }

    static func setMeta(_ db: Database, _ key: String, _ value: String) throws {
        try db.execute(sql: "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", arguments: [key, value])
    }

    // MARK: Space and retention

    /// Free bytes on the store's file system.
    public func freeBytes() -> Int64 {
        var s = statvfs()
        guard statvfs(directory, &s) == 0 else { return Int64.max }
        return Int64(s.f_bavail) * Int64(s.f_frsize)
    }

    private func checkFreeSpace(adding bytes: Int) throws(StoreError) {
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
            let created = oldest.json?["time"]?["utc"]?.stringValue.flatMap(Timestamp.init(rfc3339:)) ?? now
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

    /// The offset of the wall clock from the monotonic clock at the last commit; a jump of more
    /// than a second between commits is a clock step, which goes to the audit trail.
    private var lastClockOffset: Int64?

    private func checkClockStep() {
        var real = timespec(), mono = timespec()
        clock_gettime(CLOCK_REALTIME, &real)
        clock_gettime(CLOCK_MONOTONIC, &mono)
        let offset = (Int64(real.tv_sec) - Int64(mono.tv_sec)) * 1_000_000 + (Int64(real.tv_nsec) - Int64(mono.tv_nsec)) / 1000
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
    private func recordKey() throws(StoreError) {
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


// WeighpointEvidence owns what makes a record evidence: the SQLite store with its chains,
// journal, retention and audit trail, record content and envelopes, and verification. It signs
// and digests through WeighpointCrypto and may import Core, JSON, System and Crypto.
import WeighpointCrypto
import Foundation
import GRDB
import Glibc
import WeighpointCore
import WeighpointSystem
import WeighpointJSON

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
    let lock = NSLock()
    var refusing: String?
    /// The offset of the wall clock from the monotonic clock at the last commit; a jump of more
    /// than a second between commits is a clock step, which goes to the audit trail.
    var lastClockOffset: Int64?
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
        do {
            db = try Self.durablePool(path: directory + "/evidence.sqlite")
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

    /// A GRDB pool (WAL) whose commits are on disk when they return: `synchronous = FULL` on its
    /// writer. GRDB sets NORMAL when it puts a pool in WAL mode, after `prepareDatabase` has run,
    /// so FULL set there was undone: a power cut lost the commits since the last checkpoint
    /// (found by Scripts/powercut-test: records and journal entries the unit had acknowledged
    /// were gone). Set on the writer after opening, and checked.
    public static func durablePool(path: String) throws -> DatabasePool {
        let pool = try DatabasePool(path: path)
        let level = try pool.writeWithoutTransaction { db -> Int? in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            return try Int.fetchOne(db, sql: "PRAGMA synchronous")
        }
        guard level == 2 else { throw DatabaseError(message: "PRAGMA synchronous is \(level.map(String.init) ?? "unknown") after setting FULL (2) on \(path)") }
        return pool
    }

    /// What the startup check of the chains found (empty when intact).
    public private(set) var startupProblems: [ChainProblem] = []

    /// Creates or updates the schema of a data directory's database. Public for the receiver's
    /// ledger, which keeps each device in the same layout so `weighpoint verify` reads it.
    public static func migrate(_ db: Database) throws {
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
        // Version 2: what lists and the console show are columns. A store made before gets them
        // once, filled from its records' bodies (the signed bytes are not touched).
        let columns = try Row.fetchAll(db, sql: "PRAGMA table_info(records)").map { $0["name"] as String }
        if !columns.contains("controller_seq") {
            try db.execute(sql: """
                ALTER TABLE records ADD COLUMN controller_seq INTEGER;
                ALTER TABLE records ADD COLUMN lane INTEGER;
                ALTER TABLE records ADD COLUMN gross_kg INTEGER;
                ALTER TABLE records ADD COLUMN weighed_at TEXT;
                """)
            for row in try Row.fetchAll(db, sql: "SELECT seq, body FROM records") {
                let c = RecordColumns(body: parseJSON(Array(row["body"] as Data)))
                try db.execute(
                    sql: "UPDATE records SET controller_seq = ?, lane = ?, gross_kg = ?, weighed_at = ? WHERE seq = ?",
                    arguments: [c.controllerSeq, c.lane, c.grossKg, c.weighedAt, row["seq"] as Int64])
            }
        }
        try db.execute(sql: "CREATE INDEX IF NOT EXISTS records_controller_seq ON records(controller_seq)")
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
    public func commit(_ content: RecordContent, images: [EvidenceImage], time: Timestamp = ClockState.now(), clock: ClockState = .read(),
                       settling journal: [Int64] = []) throws(StoreError) -> StoredRecord {
        // Refusing since the disk reached its floor: space may be back (an operator freed it).
        if refusalReason != nil && !recheckSpace() { throw .full(refusalReason ?? "") }
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
                var o = content.json
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
                let columns = RecordColumns(content)
                let record = try signed(seq: seq, body: body, decision: content.decision, plate: content.plate, createdAt: time.description, columns: columns)
                try db.execute(
                    sql: """
                        INSERT INTO records (seq, body, hash, alg, key_id, signature, decision, plate, created_at, controller_seq, lane, gross_kg, weighed_at)
                        VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)
                        """,
                    arguments: [
                        seq, Data(body), record.hash, record.algorithm.envelopeName, record.keyID, Data(record.signature), record.decision, record.plate,
                        time.description, columns.controllerSeq, columns.lane, columns.grossKg, columns.weighedAt,
                    ])
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

    func signed(seq: Int64, body: [UInt8], decision: String, plate: String?, createdAt: String, columns c: RecordColumns) throws -> StoredRecord {
        let sig = try key.sign(body)
        return StoredRecord(
            seq: seq, body: body, hash: try Digest.hexDigest(of: body), algorithm: key.algorithm, keyID: try key.keyID(), signature: sig,
            decision: decision, plate: plate, acknowledgedAt: nil, createdAt: createdAt, controllerSeq: c.controllerSeq, lane: c.lane.map { Int($0) },
            grossKg: c.grossKg.map { Int($0) }, weighedAt: c.weighedAt)
    }

    /// Writes an image under images/ab/<sha256>.<ext>: temp file, fsync, rename, directory fsync.
    /// An existing file with the same name is kept if its content still hashes right.
    func writeImage(_ img: EvidenceImage) throws(StoreError) -> (sha: String, relativePath: String) {
        let sha: String
        do { sha = try Digest.hexDigest(of: img.bytes) } catch { throw .io("image", "\(error)") }
        let ext = img.mediaType == "image/jpeg" ? "jpg" : (img.mediaType.split(separator: "/").last.map(String.init) ?? "bin")
        let relDir = "images/" + sha.prefix(2)
        let rel = relDir + "/" + sha + "." + ext
        let dir = directory + "/" + relDir, path = directory + "/" + rel
        if FileManager.default.fileExists(atPath: path), (try? Digest.hexDigest(ofFileAt: path)) == sha { return (sha, rel) }
        do {
            // A new subdirectory is durable only once its parent's entry is on disk.
            try makeDurableDirectory(dir)
            try durableWrite(img.bytes, to: path)
        } catch {
            throw .io(error.path, "\(error.operation): \(error.reason)")
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
            keyID: r["key_id"], signature: Array(r["signature"] as Data), decision: r["decision"], plate: r["plate"], acknowledgedAt: r["acknowledged_at"], createdAt: r["created_at"],
            controllerSeq: r["controller_seq"], lane: r["lane"], grossKg: r["gross_kg"], weighedAt: r["weighed_at"])
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

}


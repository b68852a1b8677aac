import WeighpointCrypto
import Foundation
import GRDB
import WeighpointCore
import WeighpointJSON

/// Something wrong with a chain, a signature or an image: where and what.
public struct ChainProblem: Sendable, CustomStringConvertible, Equatable {
    /// `records` or `audit`, or the export directory.
    public let chain: String
    public let seq: Int64?
    public let message: String
    public var description: String { "\(chain)\(seq.map { " #\($0)" } ?? ""): \(message)" }

    public init(chain: String, seq: Int64?, message: String) {
        self.chain = chain
        self.seq = seq
        self.message = message
    }
}

/// Verifies chains of signed canonical bodies; shared by the store's startup check and
/// `weighpoint verify`.
struct ChainVerifier {
    /// Public keys by key id.
    var keys: [String: SigningKey]
    var problems: [ChainProblem] = []

    init(keys: [String: SigningKey]) { self.keys = keys }

    /// Loads `DIR/keys/*.pem`.
    static func keys(in directory: String) -> [String: SigningKey] {
        var out: [String: SigningKey] = [:]
        for f in (try? FileManager.default.contentsOfDirectory(atPath: directory + "/keys")) ?? [] where f.hasSuffix(".pem") {
            if let k = try? SigningKey.load(path: directory + "/keys/" + f), let id = try? k.keyID() { out[id] = k }
        }
        return out
    }

    /// Checks rows in sequence order. `anchor`: seq and hash of the last deleted predecessor.
    mutating func check(chain: String, rows: [Row], anchor: (Int64, String)?, imageRoot: String?) {
        var expectedSeq = anchor.map { $0.0 + 1 }
        var previousHash: String? = anchor?.1
        var first = true
        for r in rows {
            let seq: Int64 = r["seq"]
            let body = Array(r["body"] as Data)
            let storedHash: String = r["hash"]
            let hash = (try? Digest.hexDigest(of: body)) ?? ""
            func problem(_ m: String) { problems.append(ChainProblem(chain: chain, seq: seq, message: m)) }
            if hash != storedHash { problem("body does not match its stored hash (altered)") }
            if let e = expectedSeq, seq != e { problem("sequence jumps from \(e - 1) to \(seq): \(seq - e) missing") }
            guard let json = parseJSON(body) else {
                problem("body is not JSON")
                continue
            }
            let fields = SignedRecordFields(json)
            if fields.seq != seq { problem("body says seq \(fields.seq.map(String.init) ?? "none"), row says \(seq)") }
            if JSONValue.object(Self.objectOf(json)).canonicalBytes != body { problem("body is not in canonical form") }
            let prev = fields.prevHash
            if first && anchor == nil {
                if prev != nil && seq == 1 { problem("first record names a predecessor") }
            } else if prev != previousHash {
                problem("prev_hash \(prev ?? "null") does not match the previous entry's hash \(previousHash ?? "null") (deleted, inserted or reordered)")
            }
            let keyID: String = r["key_id"]
            if let key = keys[keyID] {
                if !key.verify(Array(r["signature"] as Data), over: body) { problem("signature does not verify with key \(keyID.prefix(16))…") }
            } else {
                problem("no public key \(keyID.prefix(16))… to verify the signature")
            }
            if let root = imageRoot { checkImages(chain: chain, seq: seq, evidence: fields.evidence, root: root) }
            previousHash = hash
            expectedSeq = seq + 1
            first = false
        }
    }

    static func objectOf(_ v: JSONValue) -> JSONObject {
        if case .object(let o) = v { return o }
        return [:]
    }

    /// Every evidence item of the record must exist under `root/images/` with its hash.
    mutating func checkImages(chain: String, seq: Int64?, evidence: [SignedRecordFields.Item], root: String) {
        for item in evidence {
            guard let sha = item.sha256 else { continue }
            let dir = root + "/images/" + sha.prefix(2)
            let candidates = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasPrefix(sha + ".") }
            let flat = ((try? FileManager.default.contentsOfDirectory(atPath: root + "/images")) ?? []).filter { $0.hasPrefix(sha + ".") }
            let path = candidates.first.map { dir + "/" + $0 } ?? flat.first.map { root + "/images/" + $0 }
            guard let path else {
                problems.append(ChainProblem(chain: chain, seq: seq, message: "image \(sha.prefix(16))… (\(item.role ?? "?")) is missing"))
                continue
            }
            if (try? Digest.hexDigest(ofFileAt: path)) != sha {
                problems.append(ChainProblem(chain: chain, seq: seq, message: "image \(path) does not match its hash (altered)"))
            }
        }
    }
}

extension EvidenceStore {
    /// Checks the last `records` records and audit entries: hashes, sequence, chain links,
    /// signatures and images.
    public func verifyTail(records count: Int) -> [ChainProblem] {
        (try? db.read { db in try Self.verify(db, directory: directory, keys: ChainVerifier.keys(in: directory), tail: count) }) ?? [ChainProblem(chain: "records", seq: nil, message: "cannot read the database")]
    }

    static func verify(_ db: Database, directory: String, keys: [String: SigningKey], tail: Int?) throws -> [ChainProblem] {
        var v = ChainVerifier(keys: keys)
        for (table, images) in [("records", true), ("audit", false)] {
            var anchor: (Int64, String)?
            let limit = tail ?? Int(Int32.max)
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM (SELECT * FROM \(table) ORDER BY seq DESC LIMIT ?) ORDER BY seq", arguments: [limit])
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0
            if rows.count < total, let firstSeq = rows.first?["seq"] as Int64? {
                // Tail only: anchor on the row just before.
                if let prev = try Row.fetchOne(db, sql: "SELECT seq, hash FROM \(table) WHERE seq < ? ORDER BY seq DESC LIMIT 1", arguments: [firstSeq]) {
                    anchor = (prev["seq"], prev["hash"])
                }
            } else if table == "records", let a = try meta(db, "records_anchor") {
                let parts = a.split(separator: " ")
                anchor = (Int64(parts[0])!, String(parts[1]))
            }
            v.check(chain: table, rows: rows, anchor: anchor, imageRoot: images ? directory : nil)
        }
        return v.problems
    }

    /// Verifies a whole data directory (as `weighpoint verify DIR`), opening it read-only.
    public static func verifyDirectory(_ directory: String) -> [ChainProblem] {
        var config = Configuration()
        config.readonly = true
        do {
            let queue = try DatabaseQueue(path: directory + "/evidence.sqlite", configuration: config)
            return try queue.read { db in try verify(db, directory: directory, keys: ChainVerifier.keys(in: directory), tail: nil) }
        } catch {
            return [ChainProblem(chain: directory, seq: nil, message: "cannot open evidence.sqlite: \(error)")]
        }
    }

    /// Writes a record export (see `EvidenceExport`).
    public func export(_ seq: Int64, to out: String) throws(StoreError) {
        guard let r = try record(seq) else { throw .io(directory, "no record \(seq)") }
        try EvidenceExport.write(r, from: directory, to: out, distinguishingID: key.distinguishingID)
    }

    /// Verifies a record export directory: signature with its public key, canonical form, images.
    public static func verifyExport(_ dir: String) -> [ChainProblem] {
        var problems: [ChainProblem] = []
        func fail(_ m: String) { problems.append(ChainProblem(chain: dir, seq: nil, message: m)) }
        guard let body = FileManager.default.contents(atPath: dir + "/record.json").map(Array.init) else { fail("record.json missing"); return problems }
        guard let sig = FileManager.default.contents(atPath: dir + "/record.sig").map(Array.init) else { fail("record.sig missing"); return problems }
        let envelope = FileManager.default.contents(atPath: dir + "/envelope.json").flatMap { parseJSON(Array($0)) }
        let distid = envelope?["distid"]?.stringValue ?? defaultSM2DistinguishingID
        guard let key = try? SigningKey.load(path: dir + "/pubkey.pem", distinguishingID: distid) else { fail("pubkey.pem missing or unreadable"); return problems }
        if !key.verify(sig, over: body) { fail("signature does not verify over record.json with pubkey.pem") }
        if let kid = envelope?["key_id"]?.stringValue, (try? key.keyID()) != kid { fail("pubkey.pem is not key \(kid.prefix(16))…") }
        guard let json = parseJSON(body) else { fail("record.json is not JSON"); return problems }
        if JSONValue.object(ChainVerifier.objectOf(json)).canonicalBytes != body { fail("record.json is not in canonical form") }
        var v = ChainVerifier(keys: [:])
        let fields = SignedRecordFields(json)
        v.checkImages(chain: dir, seq: fields.seq, evidence: fields.evidence, root: dir)
        return problems + v.problems
    }
}

/// A record export: `record.json` (the exact signed canonical bytes), `record.sig` (DER, or raw
/// for Ed25519), `pubkey.pem`, `envelope.json` (algorithm, key id, hash, SM2 ID) and the images
/// under `images/` named by their hash. Anyone can check it with `weighpoint verify` or openssl.
public enum EvidenceExport {
    public static func write(_ r: StoredRecord, from directory: String, to out: String, distinguishingID: String = defaultSM2DistinguishingID) throws(StoreError) {
        do {
            try FileManager.default.createDirectory(atPath: out + "/images", withIntermediateDirectories: true)
            try Data(r.body).write(to: URL(fileURLWithPath: out + "/record.json"))
            try Data(r.signature).write(to: URL(fileURLWithPath: out + "/record.sig"))
            let pub = out + "/pubkey.pem"
            if FileManager.default.fileExists(atPath: pub) { try FileManager.default.removeItem(atPath: pub) }
            try FileManager.default.copyItem(atPath: directory + "/keys/" + r.keyID + ".pem", toPath: pub)
            let envelope = JSONValue.object([
                "alg": .string(r.algorithm.envelopeName), "key_id": .string(r.keyID), "seq": .int(r.seq), "sha256": .string(r.hash),
                "distid": r.algorithm == .sm2 ? .string(distinguishingID) : .null,
            ])
            try Data(envelope.canonicalBytes).write(to: URL(fileURLWithPath: out + "/envelope.json"))
            for item in r.json.map(SignedRecordFields.init)?.evidence ?? [] {
                guard let sha = item.sha256 else { continue }
                let dir = directory + "/images/" + sha.prefix(2)
                for name in ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []) where name.hasPrefix(sha + ".") {
                    let target = out + "/images/" + name
                    if !FileManager.default.fileExists(atPath: target) { try FileManager.default.copyItem(atPath: dir + "/" + name, toPath: target) }
                }
            }
        } catch let e as StoreError {
            throw e
        } catch {
            throw .io(out, "\(error)")
        }
    }
}

import WeighpointCrypto
import Foundation
import GRDB
import Testing
import WeighpointTesting
import WeighpointCore
@testable import WeighpointEvidence
import WeighpointJSON

let identity = UnitIdentity(
    deviceID: "WP-TEST-0001", station: ["code": .string("320500-TEST"), "name": .string("Test station")],
    instrument: ["model": .string("generic-wim"), "serial": .string("SN1"), "accuracy_class": .int(5)],
    calibrationProfileSHA256: String(repeating: "0", count: 64), softwareVersion: "0.1.0", softwareSHA256: String(repeating: "a", count: 64))

func sampleContent(_ i: Int) -> RecordContent {
    let w = Weighing(
        seq: UInt64(i), lane: 1, time: Timestamp(milliseconds: 1_795_000_000_000 + Int64(i) * 1000), speedKmh: 54, body: .rigid, driveAxles: 1,
        axles: [Axle(kg: 7000, tyres: .single), Axle(kg: 12_000 + i, tyres: .dual)], groups: [1, 1])
    let a = Assessor(rules: AssessmentRules()).assess(w, plates: [])
    let read = PlateRead(camera: "front-1", time: w.time.adding(microseconds: 800_000), text: "苏A1234\(i % 10)", color: .yellow, confidence: 0.9)
    return RecordContent(weighing: w, assessment: a, front: read, rear: nil)
}

func image(_ i: Int, role: String = "front", size: Int = 2000) -> EvidenceImage {
    var bytes = [UInt8](repeating: 0, count: size)
    bytes[0] = 0xFF; bytes[1] = 0xD8
    for k in 2..<size { bytes[k] = UInt8(truncatingIfNeeded: k &* 31 &+ i) }
    return EvidenceImage(role: role, camera: "front-1", capturedAt: Timestamp(milliseconds: 1_795_000_000_000 + Int64(i)), bytes: bytes)
}

func openStore(_ dir: URL, key: SigningKey, auditCapacity: Int = 1000, identity id: UnitIdentity = identity) throws -> EvidenceStore {
    try EvidenceStore(directory: dir.path, key: key, identity: id, auditCapacity: auditCapacity)
}

@discardableResult
func sqlite(_ db: String, _ sql: String) throws -> ProcessResult { try runProcess("/usr/bin/sqlite3", [db, sql]) }

@Suite struct EvidenceStoreTests {
    @Test(arguments: SignatureAlgorithm.allCases)
    func committedRecordsVerifyAndTheirExportVerifiesWithOpenSSL(alg: SignatureAlgorithm) throws {
        let dir = try tempDir("store-\(alg)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try openStore(dir, key: try SigningKey.generate(alg))
        for i in 1...5 { try store.commit(sampleContent(i), images: [image(i), image(i, role: "plate", size: 500)]) }
        #expect(try store.records().map(\.seq) == [1, 2, 3, 4, 5])
        #expect(EvidenceStore.verifyDirectory(dir.path).isEmpty)
        let r3 = try #require(try store.record(3))
        #expect(r3.json?["prev_hash"]?.stringValue == (try store.record(2))?.hash)
        #expect(r3.json?["evidence"]?.arrayValue?.count == 2)
        #expect(r3.json?["software"]?["sha256"]?.stringValue == identity.softwareSHA256)
        let out = dir.appendingPathComponent("export-3").path
        try store.export(3, to: out)
        #expect(EvidenceStore.verifyExport(out).isEmpty)
        #expect(try opensslVerifies(alg.rawValue, pub: out + "/pubkey.pem", body: out + "/record.json", sig: out + "/record.sig"))
        // The database is sound to an independent reader.
        #expect(try sqlite(store.databasePath, "PRAGMA integrity_check").stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "ok")
        #expect(try sqlite(store.databasePath, "PRAGMA journal_mode").stdout.contains("wal"))
    }

    @Test func listedFieldsAreColumnsAndAnOlderStoreGetsThemFromItsRecords() throws {
        let dir = try tempDir("columns")
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = try SigningKey.generate(.ed25519)
        do {
            let store = try openStore(dir, key: key)
            for i in 1...3 { try store.commit(sampleContent(i), images: []) }
            let r2 = try #require(try store.record(2))
            #expect(r2.controllerSeq == 2 && r2.lane == 1 && r2.grossKg == 19_002)
            #expect(r2.weighedAt == r2.json?["weighing"]?["time"]?.stringValue && r2.createdAt == r2.json?["time"]?["utc"]?.stringValue)
            // As an independent reader sees them.
            let rows = try sqlite(store.databasePath, "SELECT seq, controller_seq, lane, gross_kg FROM records ORDER BY seq").stdout
            #expect(rows == "1|1|1|19001\n2|2|1|19002\n3|3|1|19003\n")
        }
        // A store from before the columns (dropped here with the sqlite3 command line) gets them
        // at the next open, filled from the signed bodies, which stay as they were.
        let db = dir.path + "/evidence.sqlite"
        let before = try sqlite(db, "SELECT group_concat(hex(body), '') FROM records").stdout
        try sqlite(db, """
            DROP INDEX records_controller_seq; ALTER TABLE records DROP COLUMN controller_seq; ALTER TABLE records DROP COLUMN lane;
            ALTER TABLE records DROP COLUMN gross_kg; ALTER TABLE records DROP COLUMN weighed_at;
            """)
        #expect(!(try sqlite(db, "PRAGMA table_info(records)").stdout.contains("controller_seq")))
        let reopened = try openStore(dir, key: key)
        #expect(try reopened.records().map(\.controllerSeq) == [1, 2, 3])
        #expect(try reopened.records().map(\.grossKg) == [19_001, 19_002, 19_003])
        #expect(try sqlite(db, "SELECT group_concat(hex(body), '') FROM records").stdout == before)
        #expect(EvidenceStore.verifyDirectory(dir.path).isEmpty)
    }

    /// The record's content is values until the store encodes it once: what the unit could not
    /// have and what the recogniser was unsure of appear in the signed body as the schema names
    /// them, and a content without them leaves the fields out.
    @Test func typedContentIsEncodedOnceWithItsOptionalParts() throws {
        let dir = try tempDir("typed")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try openStore(dir, key: try SigningKey.generate(.p256))
        var c = sampleContent(4)
        c.front = nil
        c.evidenceMissing = [MissingEvidence(camera: "rear-1", role: "rear", reason: "camera down (no frames)")]
        c.plateCandidates = [PlateCandidates(camera: "front-1", frames: 3, candidates: ["苏A12345", "苏A12346"], confidence: 0.512345, color: .yellow)]
        let r = try store.commit(c, images: [])
        let body = try #require(r.json)
        #expect(r.decision == c.decision && r.plate == nil && body["plate"] == .null)
        #expect(body["evidence_missing"] == .array([.object(["camera": .string("rear-1"), "role": .string("rear"), "reason": .string("camera down (no frames)")])]))
        let cand = try #require(body["plate_candidates"]?.arrayValue?.first)
        #expect(cand["candidates"] == .array([.string("苏A12345"), .string("苏A12346")]) && cand["confidence"] == .double(0.5123))
        #expect(cand["color"] == .string("yellow") && cand["frames"] == .int(3))
        let plain = try #require(try store.commit(sampleContent(5), images: []).json)
        #expect(plain["evidence_missing"] == nil && plain["plate_candidates"] == nil && plain["plate"] == .string("苏A12345"))
    }

    @Test func identicalImagesAreStoredOnce() throws {
        let dir = try tempDir("dedupe")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try openStore(dir, key: try SigningKey.generate(.ed25519))
        try store.commit(sampleContent(1), images: [image(7)])
        try store.commit(sampleContent(2), images: [image(7)])
        let files = try FileManager.default.subpathsOfDirectory(atPath: dir.path + "/images").filter { $0.hasSuffix(".jpg") }
        #expect(files.count == 1)
        #expect(EvidenceStore.verifyDirectory(dir.path).isEmpty)
    }

    @Test func tamperingIsDetected() throws {
        let dir = try tempDir("tamper")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try openStore(dir, key: try SigningKey.generate(.sm2))
        for i in 1...6 { try store.commit(sampleContent(i), images: [image(i)]) }
        let db = store.databasePath
        func problems() -> [String] { EvidenceStore.verifyDirectory(dir.path).map(\.description) }
        #expect(problems().isEmpty)

        // One byte of a record body (via the sqlite3 command line, as an attacker would).
        let changed = try sqlite(db, "UPDATE records SET body = CAST(replace(CAST(body AS TEXT), '\"lane\":1', '\"lane\":2') AS BLOB) WHERE seq = 2")
        #expect(changed.status == 0)
        #expect(problems().contains { $0.hasPrefix("records #2: body does not match its stored hash") }, "\(problems())")
        // … even with the stored hash recomputed: the signature and the next link fail.
        try sqlite(db, "UPDATE records SET hash = lower(hex(sha256(body))) WHERE seq = 2")
        let p = problems()
        #expect(p.contains { $0.hasPrefix("records #2: signature does not verify") } || p.contains { $0.hasPrefix("records #2: body does not match") }, "\(p)")
    }

    @Test func deletingOrReorderingIsDetected() throws {
        let dir = try tempDir("delete")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try openStore(dir, key: try SigningKey.generate(.p256))
        for i in 1...6 { try store.commit(sampleContent(i), images: []) }
        let db = store.databasePath
        try sqlite(db, "DELETE FROM records WHERE seq = 4")
        var p = EvidenceStore.verifyDirectory(dir.path).map(\.description)
        #expect(p.contains { $0.contains("#5: sequence jumps from 3 to 5") }, "\(p)")
        #expect(p.contains { $0.contains("#5: prev_hash") }, "\(p)")
        // Reordering: swap the bodies (and everything else) of rows 2 and 3.
        try sqlite(db, "UPDATE records SET seq = -2 WHERE seq = 2; UPDATE records SET seq = 2 WHERE seq = 3; UPDATE records SET seq = 3 WHERE seq = -2")
        p = EvidenceStore.verifyDirectory(dir.path).map(\.description)
        #expect(p.contains { $0.contains("#2: body says seq 3, row says 2") }, "\(p)")
    }

    @Test func alteredOrMissingImagesAreDetected() throws {
        let dir = try tempDir("images")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try openStore(dir, key: try SigningKey.generate(.ed25519))
        try store.commit(sampleContent(1), images: [image(1), image(2, role: "rear")])
        let imgs = try store.images(of: 1)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: imgs[0].path))
        bytes[100] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: imgs[0].path))
        try FileManager.default.removeItem(atPath: imgs[1].path)
        let p = EvidenceStore.verifyDirectory(dir.path).map(\.description)
        #expect(p.contains { $0.contains("does not match its hash (altered)") }, "\(p)")
        #expect(p.contains { $0.contains("(rear) is missing") }, "\(p)")
        // An export carries the images; altering one there fails too.
        let out = dir.appendingPathComponent("exp").path
        try? FileManager.default.removeItem(atPath: out)
        let store2 = try openStore(try tempDir("images2"), key: try SigningKey.generate(.ed25519))
        try store2.commit(sampleContent(1), images: [image(1)])
        try store2.export(1, to: out)
        #expect(EvidenceStore.verifyExport(out).isEmpty)
        let exported = try FileManager.default.contentsOfDirectory(atPath: out + "/images")[0]
        var e = try Data(contentsOf: URL(fileURLWithPath: out + "/images/" + exported))
        e[10] ^= 0x40
        try e.write(to: URL(fileURLWithPath: out + "/images/" + exported))
        #expect(EvidenceStore.verifyExport(out).contains { $0.message.contains("altered") })
        var body = try Data(contentsOf: URL(fileURLWithPath: out + "/record.json"))
        body[body.count - 3] ^= 0x01
        try body.write(to: URL(fileURLWithPath: out + "/record.json"))
        #expect(EvidenceStore.verifyExport(out).contains { $0.message.contains("signature does not verify") })
    }

    @Test func startupReportsAndAuditsABrokenChain() throws {
        let dir = try tempDir("startup")
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = try SigningKey.generate(.ed25519)
        do {
            let store = try openStore(dir, key: key)
            for i in 1...4 { try store.commit(sampleContent(i), images: []) }
        }
        try sqlite(dir.path + "/evidence.sqlite", "DELETE FROM records WHERE seq = 2")
        let reopened = try openStore(dir, key: key)
        #expect(reopened.startupProblems.contains { $0.description.contains("#3: sequence jumps from 1 to 3") })
        let audit = try reopened.auditEntries()
        #expect(audit.contains { $0.event == "chain_check" && ($0.json?["new"]?.stringValue ?? "").contains("sequence jumps") })
        // New records continue after the last one present; nothing already written is touched.
        try reopened.commit(sampleContent(5), images: [])
        #expect(try reopened.records().map(\.seq) == [1, 3, 4, 5])
    }

    @Test func auditRecordsStartsSoftwareChangesAndRefusesWhenFull() throws {
        let dir = try tempDir("audit")
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = try SigningKey.generate(.sm2)
        do { _ = try openStore(dir, key: key, auditCapacity: 5) }
        var newer = identity
        newer.softwareVersion = "0.2.0"
        let store = try openStore(dir, key: key, auditCapacity: 5, identity: newer)
        let events = try store.auditEntries().map(\.event)
        #expect(events == ["start", "software_change", "start"])
        let change = try store.auditEntries()[1].json
        #expect(change?["old"]?.stringValue?.hasPrefix("0.1.0") == true && change?["new"]?.stringValue?.hasPrefix("0.2.0") == true)
        try store.appendAudit(event: "calibration", who: "tech-li", parameter: "lane1.factor", old: "1.000", new: "0.985")
        try store.appendAudit(event: "parameter", who: "tech-li", parameter: "tolerance.percent", old: "0", new: "2.5")
        do {
            try store.appendAudit(event: "parameter", who: "tech-li", parameter: "tolerance.kg", old: "0", new: "100")
            Issue.record("accepted beyond capacity")
        } catch {
            #expect(error.description.contains("audit trail full (5 entries)"))
        }
        #expect(EvidenceStore.verifyDirectory(dir.path).isEmpty)
        // Full trail and changed software: the store does not open.
        var third = identity
        third.softwareVersion = "0.3.0"
        #expect(throws: StoreError.self) { try openStore(dir, key: key, auditCapacity: 5, identity: third) }
        // Same software: it opens (without a start entry).
        _ = try openStore(dir, key: key, auditCapacity: 5, identity: newer)
    }

    @Test func retentionDeletesOnlyAcknowledgedRecordsOldestFirst() throws {
        let dir = try tempDir("retention")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try openStore(dir, key: try SigningKey.generate(.ed25519))
        let day: Int64 = 86_400_000_000
        let t0 = Timestamp(milliseconds: 1_795_000_000_000)
        for i in 1...5 { try store.commit(sampleContent(i), images: [image(i)], time: t0.adding(microseconds: Int64(i) * day)) }
        for seq in [1, 2, 4] as [Int64] { try store.acknowledge(seq, receipt: "ack-\(seq)") }
        let now = t0.adding(microseconds: 40 * day)
        // Everything is older than 30 days, but 3 is not acknowledged: only 1 and 2 go.
        #expect(try store.applyRetention(maxAgeMicroseconds: 30 * day, now: now) == 2)
        #expect(try store.records().map(\.seq) == [3, 4, 5])
        #expect(try store.unacknowledged().map(\.seq) == [3, 5])
        #expect(EvidenceStore.verifyDirectory(dir.path).isEmpty, "the chain verifies from its anchor")
        let remainingImages = try FileManager.default.subpathsOfDirectory(atPath: dir.path + "/images").filter { $0.hasSuffix(".jpg") }
        #expect(remainingImages.count == 3)
        #expect(try store.auditEntries().count >= 1, "the audit trail is never deleted")
    }

    /// Every commit is on disk when it returns. GRDB's pool put its writer back to
    /// synchronous=NORMAL after our FULL (a power cut lost the last commits): this failed.
    @Test func theStoresWriterCommitsWithSynchronousFull() throws {
        let dir = try tempDir("sync")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try openStore(dir, key: try SigningKey.generate(.ed25519))
        #expect(try store.db.writeWithoutTransaction { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == 2)
    }

    @Test func diskFloorWithNothingDeletableRefusesNewEvidence() throws {
        let dir = try tempDir("floor")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try openStore(dir, key: try SigningKey.generate(.ed25519))
        try store.commit(sampleContent(1), images: [image(1)])
        store.minimumFreeBytes = store.freeBytes() + 1_000_000_000  // the floor is above what is free
        do {
            try store.commit(sampleContent(2), images: [image(2)])
            Issue.record("committed below the floor")
        } catch {
            #expect(error.description.contains("evidence store full"))
        }
        #expect(store.refusalReason != nil)
        #expect(try store.records().map(\.seq) == [1], "nothing undelivered was deleted")
        #expect(try store.auditEntries().contains { $0.event == "storage_full" })
    }
}

@Suite struct RecordSchemaTests {
    @Test func storedRecordsConformToThePublishedSchema() throws {
        let dir = try tempDir("schema")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try openStore(dir, key: try SigningKey.generate(.sm2))
        for i in 1...3 { try store.commit(sampleContent(i), images: [image(i)]) }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for r in try store.records() {
            let file = dir.appendingPathComponent("r\(r.seq).json").path
            try Data(r.body).write(to: URL(fileURLWithPath: file))
            // An independent validator: Debian's python3-jsonschema.
            let check = try runProcess("/usr/bin/python3", ["-c", """
                import json, sys, jsonschema
                jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))
                """, root.appendingPathComponent("Docs/record.schema.json").path, file])
            #expect(check.status == 0, "record \(r.seq): \(check.stderr)")
        }
        // And the validator does reject a record that breaks the schema.
        var broken = try #require(try store.record(1)?.json)
        if case .object(var o) = broken { o["seq"] = .string("one"); broken = .object(o) }
        let bad = dir.appendingPathComponent("bad.json").path
        try Data(broken.canonicalBytes).write(to: URL(fileURLWithPath: bad))
        let rejected = try runProcess("/usr/bin/python3", ["-c", "import json, sys, jsonschema; jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))",
                                                          root.appendingPathComponent("Docs/record.schema.json").path, bad])
        #expect(rejected.status != 0)
    }
}

@Suite struct KeyChangeTests {
    @Test func aNewSigningKeyIsAuditedAndOldRecordsStillVerify() throws {
        let dir = try tempDir("keychange")
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = try SigningKey.generate(.sm2), b = try SigningKey.generate(.ed25519)
        do {
            let store = try openStore(dir, key: a)
            try store.commit(sampleContent(1), images: [])
        }
        let store = try openStore(dir, key: b)
        try store.commit(sampleContent(2), images: [])
        let change = try #require(try store.auditEntries().first { $0.event == "key_change" }?.json)
        #expect(change["old"]?.stringValue == (try a.keyID()))
        #expect(change["new"]?.stringValue?.hasPrefix(try b.keyID()) == true)
        #expect(try store.records().map(\.algorithm) == [.sm2, .ed25519])
        #expect(EvidenceStore.verifyDirectory(dir.path).isEmpty, "each record verifies with the key it names")
    }
}

/// One writer per data directory: checked against another process (python3's fcntl.flock).
@Suite struct DirectoryLockTests {
    static let tryLock = """
        import fcntl, sys
        f = open(sys.argv[1], "r+")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            print("locked")
        except BlockingIOError:
            print("busy", f.read().strip())
        """

    @Test func aStoreHoldsItsDirectoryAgainstOtherProcesses() throws {
        let dir = try tempDir("lock")
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = try SigningKey.generate(.ed25519)
        do {
            let store = try openStore(dir, key: key)
            _ = try store.commit(sampleContent(1), images: [image(1)])
            let other = try runProcess("/usr/bin/python3", ["-c", Self.tryLock, dir.path + "/lock"])
            #expect(other.stdout == "busy \(getpid())\n", "\(other.stdout)\(other.stderr)")
            // Within the process a second open shares the hold.
            let again = try openStore(dir, key: key)
            #expect(try again.record(1) != nil)
        }
        // Both closed: the directory is free.
        #expect(try runProcess("/usr/bin/python3", ["-c", Self.tryLock, dir.path + "/lock"]).stdout == "locked\n")
    }

    @Test func aDirectoryAnotherProcessWritesIsRefusedWithItsPid() throws {
        let dir = try tempDir("lock-held")
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = try SigningKey.generate(.ed25519)
        do { _ = try openStore(dir, key: key).commit(sampleContent(1), images: [image(1)]) }
        // Another process takes the lock, says its pid, and holds it until its input closes.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        holder.arguments = ["-c", """
            import fcntl, os, sys
            f = open(sys.argv[1], "r+")
            fcntl.flock(f, fcntl.LOCK_EX)
            f.truncate(0); f.write(f"{os.getpid()}\\n"); f.flush()
            print("held", flush=True)
            sys.stdin.read()
            """, dir.path + "/lock"]
        let (input, output) = (Pipe(), Pipe())
        holder.standardInput = input
        holder.standardOutput = output
        try holder.run()
        var said = ""
        while !said.hasSuffix("\n") {
            let d = output.fileHandleForReading.availableData
            if d.isEmpty { break }
            said += String(decoding: d, as: UTF8.self)
        }
        try #require(said == "held\n", "the holder said \(said)")
        #expect {
            try openStore(dir, key: key)
        } throws: { e in
            "\(e)".contains("\(dir.path): in use by another process (pid \(holder.processIdentifier))")
        }
        try input.fileHandleForWriting.close()
        holder.waitUntilExit()
        // Once it is gone the store opens, with what was written before.
        let store = try openStore(dir, key: key)
        #expect(try store.record(1) != nil && store.startupProblems.isEmpty)
    }
}

/// Weighings acknowledged to the controller and not yet decided, kept until they are.
@Suite struct WeighingJournalTests {
    @Test func aWeighingIsPendingOrRecordedNeverBothNorNeither() throws {
        let dir = try tempDir("journal")
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = try SigningKey.generate(.ed25519)
        var ids: [Int64] = []
        do {
            let store = try openStore(dir, key: key)
            for seq in [7, 8, 9] as [UInt64] {
                ids.append(try store.journalWeighing(controllerSeq: seq, block: "block 0000 000\(seq)", receivedAt: Timestamp(milliseconds: 1_795_000_000_000)))
            }
            // 7 is an overload: its record and the end of its entry are one transaction.
            _ = try store.commit(sampleContent(7), images: [image(7)], settling: [ids[0]])
            // 8 was decided ok.
            try store.settleJournal([ids[1]])
        }
        // After a restart (here: the store reopened) only 9 is still waiting, with its block.
        let again = try openStore(dir, key: key)
        let left = try again.journaledWeighings()
        #expect(left.map(\.id) == [ids[2]] && left.map(\.controllerSeq) == [9] && left.map(\.block) == ["block 0000 0009"])
        #expect(try again.recordCount() == 1)
        // What sqlite3 sees agrees.
        let rows = try sqlite(dir.path + "/evidence.sqlite", "SELECT controller_seq FROM pending_weighings")
        #expect(rows.stdout == "9\n")
    }
}

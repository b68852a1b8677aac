import WeighpointCrypto
import Foundation
import WeighpointHTTP
import Glibc
import Testing
import WeighpointCaseSink
import WeighpointCore
import WeighpointEvidence
import WeighpointTesting
import WeighpointUplink

/// Delivery to the reference receiver over real TLS on loopback. Every case ends with the
/// receiver's data verifying and the counts matching.
@Suite(.serialized) struct DeliveryTests {
    func check(_ sink: RunningSink, _ store: EvidenceStore, expected: Int) throws {
        #expect(CaseLedger.verify(sink.ledger.directory).isEmpty, "\(CaseLedger.verify(sink.ledger.directory))")
        let held = try CaseLedger.list(sink.ledger.directory)
        #expect(held.map(\.seq) == (1...Int64(expected)).map { $0 }, "each record once, in order")
        #expect(try store.unacknowledged().isEmpty)
        let verify = try runProcess(weighpointCLI, ["verify", sink.ledger.directory + "/devices/WP-UNIT-7"])
        #expect(verify.status == 0, "\(verify.stdout)")
        // The receiver keeps the same columns as the unit, read from the signed bodies.
        let sent = try store.records(), received = try EvidenceArchive(directory: sink.ledger.directory + "/devices/WP-UNIT-7").records()
        #expect(received.map(\.controllerSeq) == sent.map(\.controllerSeq) && received.allSatisfy { $0.controllerSeq != nil })
        #expect(received.map(\.grossKg) == sent.map(\.grossKg) && received.map(\.lane) == sent.map(\.lane) && received.map(\.weighedAt) == sent.map(\.weighedAt))
        #expect(received.map(\.createdAt) == sent.map(\.createdAt))
    }

    var weighpointCLI: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../.build/debug/weighpoint").standardized.path
    }

    @Test func normalDelivery() async throws {
        let pki = try TestPKI()
        let key = try SigningKey.generate(.sm2)
        let store = try unitStore(tmp("unit"), key: key, count: 5)
        let sink = try await RunningSink(pki: pki, data: tmp("sink"), trust: [key])
        let up = try uplink(store, pki, url: sink.url)
        #expect(try await up.drain() == 5)
        #expect(try await up.drain() == 0)
        await up.shutdown()
        try check(sink, store, expected: 5)
        #expect(try store.records().allSatisfy { $0.acknowledgedAt != nil })
        await sink.stop()
    }

    /// A test that fails between creating an uplink and shutting it down (a drain timing out on
    /// a loaded machine) dropped the client unclosed, and AsyncHTTPClient's debug check stopped
    /// the whole test process. Dropping one now closes its client.
    @Test func anUplinkDroppedWithoutShutdownClosesItsClient() async throws {
        let pki = try TestPKI()
        let store = try unitStore(tmp("unit"), key: try SigningKey.generate(.ed25519), count: 1)
        do {
            let up = try uplink(store, pki, url: "https://127.0.0.1:\(freeTCPPort())")
            #expect(up.deliveredCount == 0)
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(try store.unacknowledgedCount() == 1, "the process is still here")
    }

    @Test func receiverDownThenUpDrainsTheBacklogInOrder() async throws {
        let pki = try TestPKI()
        let key = try SigningKey.generate(.ed25519)
        let store = try unitStore(tmp("unit"), key: key, count: 6)
        let port = freeTCPPort()
        let up = try uplink(store, pki, url: "https://127.0.0.1:\(port)")
        let errors = ErrorCount()
        let runner = Task { await up.run(pollMs: 20) { _ in errors.add() } }
        #expect(await waitUntil { errors.value >= 3 }, "the receiver is down: attempts fail and back off")
        let sink = try await RunningSink(pki: pki, data: tmp("sink"), trust: [key], port: port)
        #expect(await waitUntil { up.deliveredCount == 6 })
        runner.cancel()
        await runner.value
        await up.shutdown()
        try check(sink, store, expected: 6)
        await sink.stop()
    }

    @Test(arguments: [
        SinkFault.status(500, retryAfterSeconds: nil), .status(503, retryAfterSeconds: 1), .status(400, retryAfterSeconds: nil),
        .garbage, .delay(milliseconds: 2500), .reset,
    ])
    func misbehavingReceiverLosesAndDoublesNothing(fault: SinkFault) async throws {
        let pki = try TestPKI()
        let key = try SigningKey.generate(.p256)
        let store = try unitStore(tmp("unit"), key: key, count: 4)
        let sink = try await RunningSink(pki: pki, data: tmp("sink"), trust: [key])
        // Faults hit an image upload, the first record, and (after a success) a later record.
        sink.faults.add(fault, count: 2)
        let up = try uplink(store, pki, url: sink.url)
        let errors = ErrorCount()
        let runner = Task { await up.run(pollMs: 20) { _ in errors.add() } }
        #expect(await waitUntil(seconds: 30) { (try? store.unacknowledged().isEmpty) == true })
        runner.cancel()
        await runner.value
        await up.shutdown()
        #expect(errors.value >= 1, "\(fault) was noticed")
        #expect(sink.faults.served == 2)
        try check(sink, store, expected: 4)
        if case .status(400, _) = fault { #expect(!up.alarms.isEmpty, "a refusal raises an alarm") }
        await sink.stop()
    }

    @Test func aDifferentBodyUnderAKnownKeyIsRefusedAndAlarmed() async throws {
        let pki = try TestPKI()
        let key = try SigningKey.generate(.sm2)
        let sink = try await RunningSink(pki: pki, data: tmp("sink"), trust: [key])
        let first = try unitStore(tmp("unit-a"), key: key, count: 2)
        let a = try uplink(first, pki, url: sink.url)
        try await a.drain()
        await a.shutdown()
        // A second store for the same device (as after a unit was wiped) with different records 1–2.
        let second = try unitStore(tmp("unit-b"), key: key, count: 2, salt: 9)
        let b = try uplink(second, pki, url: sink.url)
        do {
            try await b.drain()
            Issue.record("a conflicting record was accepted")
        } catch {
            #expect(error.kind == .status(409))
        }
        #expect(b.alarms.first?.contains("HTTP 409") == true)
        #expect(try second.unacknowledged().count == 2, "the refused record stays in the outbox")
        await b.shutdown()
        // Re-sending the first unit's record is acknowledged again (200), not doubled.
        let again = try EvidenceStore(directory: first.directory, key: key, identity: unitIdentity)
        let r1 = try #require(try again.record(1))
        #expect(sink.ledger.accept(RecordEnvelope(record: r1, deviceID: "WP-UNIT-7", distinguishingID: again.distinguishingID)) != .accepted(receipt: ""))
        try check(sink, first, expected: 2)
        await sink.stop()
    }

    @Test func aClientCertificateFromAnotherCAIsRefused() async throws {
        let pki = try TestPKI()
        let key = try SigningKey.generate(.ed25519)
        let store = try unitStore(tmp("unit"), key: key, count: 1)
        let sink = try await RunningSink(pki: pki, data: tmp("sink"), trust: [key])
        let up = try uplink(store, pki, url: sink.url, rogue: true)
        do {
            try await up.drain()
            Issue.record("delivered with a rogue certificate")
        } catch {
            #expect(error.kind == .transport, "\(error)")
        }
        await up.shutdown()
        #expect(try CaseLedger.list(sink.ledger.directory).isEmpty)
        #expect(try store.unacknowledged().count == 1)
        await sink.stop()
    }

    @Test func anUntrustedUnitKeyIsRejected() async throws {
        let pki = try TestPKI()
        let store = try unitStore(tmp("unit"), key: try SigningKey.generate(.sm2), count: 1)
        let sink = try await RunningSink(pki: pki, data: tmp("sink"), trust: [try SigningKey.generate(.sm2)])
        let up = try uplink(store, pki, url: sink.url)
        await #expect(throws: DeliveryError.self) { try await up.drain() }
        #expect(up.alarms.first?.contains("not trusted") == true)
        await up.shutdown()
        await sink.stop()
    }

    /// A key registered for one device cannot sign for another: unit A's key on a record for
    /// device B is refused, and B's own records are accepted afterwards from seq 1.
    @Test func aKeyIsBoundToItsDevice() async throws {
        let pki = try TestPKI()
        let keyA = try SigningKey.generate(.sm2), keyB = try SigningKey.generate(.p256)
        var idB = unitIdentity
        idB.deviceID = "WP-UNIT-8"
        let registry = FixedDeviceKeys([unitIdentity.deviceID: [keyA], idB.deviceID: [keyB]])
        let sink = try await RunningSink(pki: pki, data: tmp("sink"), trust: [], registry: registry)
        let forged = try unitStore(tmp("forged"), key: keyA, count: 1, identity: idB)
        let up = try uplink(forged, pki, url: sink.url)
        await #expect(throws: DeliveryError.self) { try await up.drain() }
        #expect(up.alarms.first?.contains("is not trusted for device WP-UNIT-8") == true, "\(up.alarms)")
        await up.shutdown()
        let real = try unitStore(tmp("real"), key: keyB, count: 2, identity: idB)
        let up2 = try uplink(real, pki, url: sink.url)
        #expect(try await up2.drain() == 2)
        await up2.shutdown()
        #expect(try CaseLedger.list(sink.ledger.directory).map { "\($0.device) \($0.seq)" } == ["WP-UNIT-8 1", "WP-UNIT-8 2"])
        #expect(CaseLedger.verify(sink.ledger.directory).isEmpty)
        await sink.stop()
    }

    /// The receiver has the unit's connection guard: connections over its per-address limit are
    /// closed at once, idle ones at the header timeout (no TLS handshake needed for either), and
    /// a unit delivers normally afterwards. Sockets block on a dispatch queue, not on Swift's
    /// cooperative threads, which the receiver itself needs.
    @Test func theReceiverClosesConnectionsOverItsLimitsAndKeepsTakingRecords() async throws {
        let pki = try TestPKI()
        let key = try SigningKey.generate(.ed25519)
        var limits = CaseSink.connectionLimits
        limits.maxConnectionsPerAddress = 2
        limits.headerTimeout = .seconds(2)
        let sink = try await RunningSink(pki: pki, data: tmp("sink"), trust: [key], connections: limits)
        let port = sink.port
        let closedCount: Int = try await withCheckedThrowingContinuation { c in
            DispatchQueue.global().async {
                c.resume(with: Result {
                    let fds = try (0..<4).map { _ -> Int32 in
                        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                        var a = sockaddr_in()
                        a.sin_family = sa_family_t(AF_INET)
                        a.sin_port = in_port_t(UInt16(port).bigEndian)
                        a.sin_addr.s_addr = inet_addr("127.0.0.1")
                        let rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
                        guard rc == 0 else { throw POSIXError(.ECONNREFUSED) }
                        return fd
                    }
                    defer { fds.forEach { close($0) } }
                    // Each is closed by the receiver within 30 s (a read gives end of file or an error).
                    return fds.filter { fd in
                        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                        let end = Date().addingTimeInterval(30)
                        while Date() < end {
                            if poll(&p, 1, 100) > 0 {
                                var b = [UInt8](repeating: 0, count: 64)
                                if read(fd, &b, b.count) <= 0 { return true }
                            }
                        }
                        return false
                    }.count
                })
            }
        }
        #expect(closedCount == 4, "\(closedCount) of 4 held connections closed by the receiver")
        let store = try unitStore(tmp("unit"), key: key, count: 2)
        let up = try uplink(store, pki, url: sink.url)
        #expect(try await up.drain() == 2)
        await up.shutdown()
        await sink.stop()
    }

    /// Hands a record's images to the ledger, as `PUT /v1/evidence/{sha256}` would.
    func putImages(of r: StoredRecord, from store: EvidenceStore, to ledger: CaseLedger) throws {
        for img in try store.images(of: r.seq) {
            let path = img.path.hasPrefix("/") ? img.path : store.directory + "/" + img.path
            #expect(try ledger.storeImage(sha256: img.sha256, bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path)))))
        }
    }

    /// Device ids are checked before any path is made from them; a stray directory left under
    /// `devices/` is named by verify and does not break listing.
    @Test func deviceIDsAreCheckedBeforeTheyNameADirectory() throws {
        let key = try SigningKey.generate(.ed25519)
        let dir = tmp("ledger")
        let ledger = try CaseLedger(directory: dir, registry: FixedDeviceKeys([unitIdentity.deviceID: [key]]))
        let store = try unitStore(tmp("unit"), key: key, count: 1)
        let r = try #require(try store.records().first)
        for bad in ["WP\u{0}UNIT-7", "../WP-UNIT-7", ".hidden", "WP.7", "-x", "WP UNIT", "苏A", String(repeating: "A", count: 65), ""] {
            let outcome = ledger.accept(RecordEnvelope(record: r, deviceID: bad, distinguishingID: store.distinguishingID))
            guard case .rejected(let why) = outcome else { Issue.record("\(bad.debugDescription): \(outcome)"); continue }
            #expect(why.contains("is not a device id"), "\(why)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/devices").isEmpty)
        try putImages(of: r, from: store, to: ledger)
        if case .rejected(let why) = ledger.accept(RecordEnvelope(record: r, deviceID: unitIdentity.deviceID, distinguishingID: store.distinguishingID)) {
            Issue.record("the unit's own id was refused: \(why)")
        }
        try FileManager.default.createDirectory(atPath: dir + "/devices/stray dir", withIntermediateDirectories: true)
        #expect(try CaseLedger.list(dir).map(\.seq) == [1])
        #expect(CaseLedger.verify(dir).map(\.message) == ["not a device id (\(DeviceID.rule))"])
    }

    /// The registry directory: DEVICE_ID.pem, DEVICE_ID.LABEL.pem for an earlier key of the same
    /// device; files that are not keys or not named for a device are reported and skipped.
    @Test func theKeyDirectoryHoldsEachDevicesKeys() throws {
        let dir = tmp("trust")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let old = try SigningKey.generate(.sm2), new = try SigningKey.generate(.sm2), other = try SigningKey.generate(.sm2)
        try (try new.publicKeyPEM()).write(toFile: dir + "/WP-UNIT-7.pem", atomically: true, encoding: .utf8)
        try (try old.publicKeyPEM()).write(toFile: dir + "/WP-UNIT-7.2026-06.pem", atomically: true, encoding: .utf8)
        try (try other.publicKeyPEM()).write(toFile: dir + "/WP-UNIT-77.pem", atomically: true, encoding: .utf8)
        try "not a key".write(toFile: dir + "/WP-UNIT-9.pem", atomically: true, encoding: .utf8)
        // Device ids have no '.': this is a key labelled "7" of device WP-UNIT, never one of a device "WP-UNIT.7".
        try (try other.publicKeyPEM()).write(toFile: dir + "/WP-UNIT.7.pem", atomically: true, encoding: .utf8)
        try (try other.publicKeyPEM()).write(toFile: dir + "/bad id.pem", atomically: true, encoding: .utf8)
        let registry = DeviceKeyDirectory(directory: dir)
        #expect(Set(try registry.keys(for: "WP-UNIT-7").map { try $0.keyID() }) == Set([try old.keyID(), try new.keyID()]))
        #expect(try registry.keys(for: "WP-UNIT-77").map { try $0.keyID() } == [try other.keyID()])
        #expect(registry.keys(for: "../WP-UNIT-7").isEmpty && registry.keys(for: "WP-UNIT-9").isEmpty)
        // Keys are parsed once per file version: a file replaced (a new modification time) is read again.
        let replaced = try SigningKey.generate(.p256)
        try (try replaced.publicKeyPEM()).write(toFile: dir + "/WP-UNIT-77.pem", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(60)], ofItemAtPath: dir + "/WP-UNIT-77.pem")
        #expect(try registry.keys(for: "WP-UNIT-77").map { try $0.keyID() } == [try replaced.keyID()])
        let (devices, problems) = registry.inventory()
        #expect(devices == ["WP-UNIT-7": 2, "WP-UNIT-77": 1, "WP-UNIT": 1], "\(devices)")
        #expect(try registry.keys(for: "WP-UNIT").map { try $0.keyID() } == [try other.keyID()])
        #expect(problems.count == 2 && problems.contains { $0.hasSuffix("bad id.pem: 'bad id' is not a device id") } && problems.contains { $0.contains("WP-UNIT-9.pem") }, "\(problems)")
        // A record signed with the device's earlier key is still taken.
        let ledger = try CaseLedger(directory: tmp("ledger"), registry: registry)
        let store = try unitStore(tmp("unit"), key: old, count: 1)
        let r = try #require(try store.records().first)
        try putImages(of: r, from: store, to: ledger)
        guard case .accepted = ledger.accept(RecordEnvelope(record: r, deviceID: unitIdentity.deviceID, distinguishingID: store.distinguishingID)) else {
            Issue.record("a record under the device's earlier key was not accepted")
            return
        }
        // A device whose only key file is not a key: the refusal says so, not "not registered".
        var id9 = unitIdentity
        id9.deviceID = "WP-UNIT-9"
        let store9 = try unitStore(tmp("unit9"), key: old, count: 1, identity: id9)
        let r9 = try #require(try store9.records().first)
        let refusal = ledger.accept(RecordEnvelope(record: r9, deviceID: "WP-UNIT-9", distinguishingID: store9.distinguishingID))
        guard case .rejected(let why) = refusal else { Issue.record("accepted under an unusable key file: \(refusal)"); return }
        #expect(why.contains("device WP-UNIT-9's registered key is not usable (WP-UNIT-9.pem:") && why.contains("must replace it"), "\(why)")
    }

    @Test func aUnitRestartedMidBacklogResumes() async throws {
        let pki = try TestPKI()
        let key = try SigningKey.generate(.sm2)
        let dir = tmp("unit")
        let sink = try await RunningSink(pki: pki, data: tmp("sink"), trust: [key])
        do {
            let store = try unitStore(dir, key: key, count: 5)
            let up = try uplink(store, pki, url: sink.url)
            _ = try await up.deliverNext()
            _ = try await up.deliverNext()
            await up.shutdown()
        }
        // "Restart": a new store and uplink on the same directory.
        let store = try EvidenceStore(directory: dir, key: key, identity: unitIdentity)
        #expect(try store.unacknowledged().map(\.seq) == [3, 4, 5])
        let up = try uplink(store, pki, url: sink.url)
        #expect(try await up.drain() == 3)
        await up.shutdown()
        try check(sink, store, expected: 5)
        await sink.stop()
    }
}

final class ErrorCount: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    var value: Int { lock.withLock { n } }
    func add() { lock.withLock { n += 1 } }
}

func freeTCPPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    withUnsafeMutablePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            _ = bind(fd, $0, len)
            _ = getsockname(fd, $0, &len)
        }
    }
    return Int(UInt16(bigEndian: addr.sin_port))
}

@Suite(.serialized) struct OverloadExchangeTests {
    @Test func deliversInTheExchangeFormatAndTheReceiverChecksTheSummary() async throws {
        let pki = try TestPKI()
        let key = try SigningKey.generate(.sm2)
        let store = try unitStore(tmp("unit"), key: key, count: 3)
        let sink = try await RunningSink(pki: pki, data: tmp("sink"), trust: [key])
        var settings = UplinkSettings(baseURL: sink.url, clientCertificatePath: pki.clientCert, clientKeyPath: pki.clientKey, caBundlePath: pki.ca)
        settings.format = .overloadExchange
        let up = try Uplink(store: store, settings: settings)
        #expect(try await up.drain() == 3)
        await up.shutdown()
        #expect(try CaseLedger.list(sink.ledger.directory).map(\.seq) == [1, 2, 3])
        #expect(CaseLedger.verify(sink.ledger.directory).isEmpty)
        await sink.stop()
    }

    @Test func summaryFieldsFollowTheSignedRecord() throws {
        let key = try SigningKey.generate(.ed25519)
        let store = try unitStore(tmp("unit"), key: key, count: 1)
        let r = try #require(try store.record(1))
        let envelope = RecordEnvelope(record: r, deviceID: unitIdentity.deviceID, distinguishingID: store.distinguishingID)
        let body = OverloadExchange.body(envelope)
        #expect(body["checkNo"] == .string("WP-UNIT-7-1"))
        #expect(body["siteCode"] == .string("320500-01"))
        #expect(body["sumWeight"] == .int(19_001))
        #expect(body["limitWeight"] == .int(18_000))
        #expect(body["overWeight"] == .int(1001))
        #expect(body["overRate"] == .double(5.56))
        #expect(body["axleCnt"] == .int(2))
        #expect(body["plateNumColor"] == .int(9), "no plate read: 9 unknown in the zero-based table")
        // 1 795 000 005 000 ms = 2026-11-18T11:06:45Z → 19:06:45 in Beijing.
        #expect(body["checkTime"] == .string("2026-11-18 19:06:45"))
        guard case .success = OverloadExchange.parse(body) else { Issue.record("a faithful body was refused"); return }
        guard case .object(var o) = body else { return }
        o["sumWeight"] = .int(15_000)
        guard case .failure(let e) = OverloadExchange.parse(.object(o)) else { Issue.record("a doctored summary was accepted"); return }
        #expect(e.description.contains("sumWeight does not agree with the signed record"))
    }
}

@Suite(.serialized) struct BearerTokenTests {
    @Test func aReceiverRequiringATokenRefusesWithoutIt() async throws {
        let pki = try TestPKI()
        let key = try SigningKey.generate(.p256)
        let store = try unitStore(tmp("unit"), key: key, count: 2)
        let sink = try await RunningSink(pki: pki, data: tmp("sink"), trust: [key], token: "s3cret")
        let without = try uplink(store, pki, url: sink.url)
        do {
            try await without.drain()
            Issue.record("delivered without the token")
        } catch {
            #expect(error.kind == .status(401))
        }
        await without.shutdown()
        var settings = UplinkSettings(baseURL: sink.url, clientCertificatePath: pki.clientCert, clientKeyPath: pki.clientKey, caBundlePath: pki.ca, bearerToken: "s3cret")
        settings.requestTimeoutMs = 2000
        let with = try Uplink(store: store, settings: settings)
        #expect(try await with.drain() == 2)
        await with.shutdown()
        await sink.stop()
    }
}

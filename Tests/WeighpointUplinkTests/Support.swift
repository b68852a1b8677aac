import WeighpointCrypto
import Foundation
import WeighpointHTTP
import Hummingbird
import Testing
import WeighpointCaseSink
import WeighpointCore
import WeighpointEvidence
import WeighpointTesting
import WeighpointUplink

/// A reference receiver running on loopback until stopped.
final class RunningSink: @unchecked Sendable {
    let task: Task<Void, Error>
    let port: Int
    let ledger: CaseLedger
    let faults: SinkFaults

    /// `trust`: keys registered for `device` (the test unit's, unless told).
    init(
        pki: TestPKI, data: String, trust: [SigningKey], device: String = unitIdentity.deviceID, registry: (any DeviceKeyRegistry)? = nil, port: Int = 0,
        token: String? = nil, connections: ConnectionGuard.Limits = CaseSink.connectionLimits
    ) async throws {
        let ledger = try CaseLedger(directory: data, registry: registry ?? FixedDeviceKeys([device: trust]))
        let faults = SinkFaults()
        let portBox = PortBox()
        let app = try CaseSink.application(
            host: "127.0.0.1", port: port, tls: SinkTLS(certificatePath: pki.serverCert, keyPath: pki.serverKey, clientCAPath: pki.ca),
            ledger: ledger, faults: faults, bearerToken: token, connections: ConnectionGuard(limits: connections), onRunning: { portBox.set($0) })
        task = Task { try await app.runService() }
        guard await waitUntil({ portBox.value != nil }) else { throw PKIError(message: "receiver did not start") }
        self.port = portBox.value!
        self.ledger = ledger
        self.faults = faults
    }

    struct PKIError: Error { let message: String }

    func stop() async {
        task.cancel()
        _ = try? await task.value
    }

    var url: String { "https://127.0.0.1:\(port)" }
}

final class PortBox: @unchecked Sendable {
    private let lock = NSLock()
    private var p: Int?
    var value: Int? { lock.withLock { p } }
    func set(_ v: Int) { lock.withLock { p = v } }
}

/// Polls `condition` every 20 ms for up to `seconds` without blocking a thread; no timing is
/// asserted, only the outcome.
func waitUntil(seconds: Double = 20, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}

let unitIdentity = UnitIdentity(
    deviceID: "WP-UNIT-7", station: ["code": .string("320500-01")], instrument: ["model": .string("generic-wim")],
    calibrationProfileSHA256: String(repeating: "0", count: 64), softwareVersion: "0.1.0", softwareSHA256: String(repeating: "b", count: 64))

/// A unit's store with `count` records, each with two images.
func unitStore(_ dir: String, key: SigningKey, count: Int, identity: UnitIdentity = unitIdentity, salt: Int = 0) throws -> EvidenceStore {
    let store = try EvidenceStore(directory: dir, key: key, identity: identity)
    for i in 1...max(count, 1) where count > 0 {
        let w = Weighing(seq: UInt64(i), lane: 1, time: Timestamp(milliseconds: 1_795_000_000_000 + Int64(i) * 5000), speedKmh: 50, body: .rigid, driveAxles: 1,
                         axles: [Axle(kg: 7000, tyres: .single), Axle(kg: 12_000 + i + salt, tyres: .dual)], groups: [1, 1])
        let a = Assessor(rules: AssessmentRules()).assess(w, plates: [])
        let images = (0..<2).map { k in
            EvidenceImage(role: k == 0 ? "front" : "plate", camera: "cam-\(k)", capturedAt: w.time, bytes: [0xFF, 0xD8] + Array(repeating: UInt8(truncatingIfNeeded: i * 7 + k + salt), count: 3000) + [UInt8(k), UInt8(i)])
        }
        try store.commit(RecordContent(weighing: w, assessment: a, front: nil, rear: nil), images: images)
    }
    return store
}

func uplink(_ store: EvidenceStore, _ pki: TestPKI, url: String, rogue: Bool = false) throws -> Uplink {
    var s = UplinkSettings(baseURL: url, clientCertificatePath: rogue ? pki.rogueCert : pki.clientCert, clientKeyPath: rogue ? pki.rogueKey : pki.clientKey, caBundlePath: pki.ca)
    s.requestTimeoutMs = 2000
    s.backoffInitialMs = 20
    s.backoffMaxMs = 200
    return try Uplink(store: store, settings: s)
}

func tmp(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("wp-\(name)-\(UUID().uuidString.prefix(8))").path
}

import WeighpointCrypto
import ArgumentParser
import Foundation
import WeighpointCommandLine
import WeighpointCaseSink
import WeighpointEvidence
import WeighpointTesting
import WeighpointUplink

struct DeliveryBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delivery-bench",
        abstract: "Backlog drain rate to the reference receiver over mutual TLS on loopback, against bare HTTPS uploads of the same bytes.")

    @Option(help: "Records in the backlog.") var records = 100
    @Option(help: "Images per record.") var images = 3
    @Option(help: "Bytes per image.") var imageSize = 300_000
    @Option(help: "Scratch directory (a fresh subdirectory is used and removed).") var dir = "/tmp"

    func run() async throws {
        let base = dir + "/weighpoint-delivery-bench-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: base) }
        let pki = base + "/pki"
        let made = try runProcess(URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Scripts/make-pki").standardized.path, [pki])
        guard made.status == 0 else { throw ValidationError("Scripts/make-pki failed: \(made.stderr)") }
        let key = try SigningKey.generate(.sm2)
        let store = try EvidenceStore(directory: base + "/unit", key: key, identity: try Store.testIdentity())
        var allImages: [[UInt8]] = []
        for i in 1...records {
            let (content, imgs) = Store.synthetic(i, images: images, imageSize: imageSize)
            try store.commit(content, images: imgs)
            allImages += imgs.map(\.bytes)
        }
        let megabytes = Double(allImages.reduce(0) { $0 + $1.count }) / 1e6
        print("delivery bench: backlog of \(records) records × \(images) images × \(imageSize) bytes (\(format(megabytes, 1)) MB), mutual TLS on loopback")

        func sink(_ name: String) async throws -> (Task<Void, Error>, Int) {
            let ledger = try CaseLedger(directory: base + "/" + name, registry: FixedDeviceKeys([store.identity.deviceID: [key]]))
            let port = BoundPort()
            let app = try CaseSink.application(
                host: "127.0.0.1", port: 0, tls: SinkTLS(certificatePath: pki + "/server.pem", keyPath: pki + "/server.key", clientCAPath: pki + "/ca.pem"),
                ledger: ledger, onRunning: { port.set($0) })
            let task = Task { try await app.runService() }
            while port.value == 0 { try await Task.sleep(for: .milliseconds(10)) }
            return (task, port.value)
        }
        let settings = { (port: Int) in
            UplinkSettings(baseURL: "https://127.0.0.1:\(port)", clientCertificatePath: pki + "/client.pem", clientKeyPath: pki + "/client.key", caBundlePath: pki + "/ca.pem")
        }

        // The unit's drain: images, signed envelope, verification at the receiver, acknowledgement.
        let (t1, p1) = try await sink("sink")
        let uplink = try Uplink(store: store, settings: settings(p1))
        let start = Date()
        let n = try await uplink.drain()
        let drainSeconds = Date().timeIntervalSince(start)
        await uplink.shutdown()
        t1.cancel()

        // The floor: the same image bytes PUT over the same kind of connection, nothing else.
        let (t2, p2) = try await sink("floor")
        let bare = try Uplink(store: store, settings: settings(p2))
        let floorStart = Date()
        for bytes in allImages { try await bare.put(bytes) }
        let floorSeconds = Date().timeIntervalSince(floorStart)
        await bare.shutdown()
        t2.cancel()

        guard n == records, CaseLedger.verify(base + "/sink").isEmpty else { throw ValidationError("the receiver's data does not verify") }
        print("drain (unit → receiver)  \(format(Double(records) / drainSeconds, 1)) records/s, \(format(megabytes / drainSeconds, 1)) MB/s")
        print("floor (bare image PUTs)  \(format(Double(records) / floorSeconds, 1)) records' worth/s, \(format(megabytes / floorSeconds, 1)) MB/s")
        print("ratio drain/floor: \(format(drainSeconds / floorSeconds, 2))× the time")
    }
}

/// The port a server bound, set from its startup callback.
final class BoundPort: @unchecked Sendable {
    private let lock = NSLock()
    private var port = 0
    var value: Int { lock.withLock { port } }
    func set(_ p: Int) { lock.withLock { port = p } }
}

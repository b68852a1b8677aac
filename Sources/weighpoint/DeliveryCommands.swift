import ArgumentParser
import Foundation
import WeighpointCaseSink
import WeighpointEvidence
import WeighpointTesting
import WeighpointUplink

struct CaseSinkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "case-sink",
        abstract: "The reference case-system receiver: verifies, stores and acknowledges delivered records.",
        subcommands: [Serve.self, List.self], defaultSubcommand: Serve.self)

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Receive records over HTTPS with client certificates (PUT /v1/evidence/{sha256}, POST /v1/records).")

        @Option(help: "HOST:PORT to listen on.") var listen = "127.0.0.1:8443"
        @Option(help: "The receiver's certificate (PEM).") var tlsCert: String?
        @Option(help: "The receiver's private key (PEM).") var tlsKey: String?
        @Option(help: "CA that client certificates must chain to (PEM).") var clientCa: String?
        @Flag(help: "Serve plain HTTP without TLS (debugging only; units expect https).") var plainHttp = false
        @Option(help: "Directory of trusted unit public keys (*.pem).") var trust: String
        @Option(help: "Also require this bearer token (Authorization: Bearer …).") var token: String?
        @Option(help: "Where received records and images are kept.") var data: String

        func run() async throws {
            guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
                throw ValidationError("--listen '\(listen)' is not HOST:PORT")
            }
            var tls: SinkTLS?
            if !plainHttp {
                guard let tlsCert, let tlsKey, let clientCa else { throw ValidationError("--tls-cert, --tls-key and --client-ca are required (or --plain-http)") }
                tls = SinkTLS(certificatePath: tlsCert, keyPath: tlsKey, clientCAPath: clientCa)
            }
            do {
                let keys = try CaseLedger.keys(in: trust)
                guard !keys.isEmpty else { throw ValidationError("no *.pem public keys in \(trust)") }
                let ledger = try CaseLedger(directory: data, trustedKeys: keys)
                let scheme = tls == nil ? "http" : "https"
                let app = try CaseSink.application(host: String(listen[..<colon]), port: port, tls: tls, ledger: ledger, bearerToken: token) { bound in
                    printError("case-sink listening on \(scheme)://\(listen[..<colon]):\(bound), trusting \(keys.count) unit key(s), data in \(data)")
                }
                try await app.runService()
            } catch let e as ValidationError {
                throw e
            } catch {
                printError("weighpoint case-sink: \(error)")
                throw ExitCode(1)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the records the receiver holds.")
        @Option(help: "The receiver's data directory.") var data: String

        func run() throws {
            do {
                for r in try CaseLedger.list(data) { print("\(r.device)\t\(r.seq)\t\(r.decision)\t\(r.plate ?? "-")\treceived \(r.receivedAt)") }
            } catch {
                printError("weighpoint case-sink list: \(error)")
                throw ExitCode(1)
            }
        }
    }
}

struct Deliver: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Deliver a data directory's unacknowledged records to a case system, in order, then exit.")

    @Option(help: "Data directory.") var data: String
    @Option(help: "The unit's signing key (PEM), to open the store.") var key: String
    @Option(help: "Case system base URL, e.g. https://case.example:8443.") var to: String
    @Option(help: "Client certificate (PEM).") var clientCert: String?
    @Option(help: "Client private key (PEM).") var clientKey: String?
    @Option(help: "CA bundle for the case system's certificate.") var ca: String?
    @Option(help: "Bearer token.") var token: String?
    @Option(help: "Give up after this many failed attempts in a row (the daemon never gives up).") var attempts = 5
    @Option(help: "Body format: weighpoint or overload-exchange.") var format = "weighpoint"

    func run() async throws {
        guard let chosenFormat = DeliveryFormat(rawValue: format) else { throw ValidationError("--format must be weighpoint or overload-exchange") }
        do {
            var identity = try Store.testIdentity()
            if let device = EvidenceStore.storedDeviceID(directory: data) { identity.deviceID = device }
            let store = try EvidenceStore(directory: data, key: try SigningKey.load(path: key), identity: identity)
            var settings = UplinkSettings(baseURL: to, clientCertificatePath: clientCert, clientKeyPath: clientKey, caBundlePath: ca, bearerToken: token)
            settings.format = chosenFormat
            settings.backoffInitialMs = 200
            settings.backoffMaxMs = 2000
            let uplink = try Uplink(store: store, settings: settings)
            var failures = 0
            var delivered = 0
            while failures < attempts {
                do {
                    delivered += try await uplink.drain()
                    break
                } catch {
                    failures += 1
                    printError("\(error) (attempt \(failures) of \(attempts))")
                    try await Task.sleep(for: .milliseconds(min(settings.backoffMaxMs, settings.backoffInitialMs << failures)))
                }
            }
            let left = try store.unacknowledgedCount()
            await uplink.shutdown()
            print("delivered \(delivered) record(s); \(left) not yet acknowledged")
            for a in uplink.alarms { printError("ALARM: \(a)") }
            if left > 0 { throw ExitCode(1) }
        } catch let e as ExitCode {
            throw e
        } catch let e as ValidationError {
            throw e
        } catch {
            printError("weighpoint deliver: \(error)")
            throw ExitCode(1)
        }
    }
}

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
            let ledger = try CaseLedger(directory: base + "/" + name, trustedKeys: [key])
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

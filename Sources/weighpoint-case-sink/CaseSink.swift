import ArgumentParser
import Foundation
import WeighpointCommandLine
import WeighpointCaseSink
import WeighpointEvidence
import WeighpointSystem
import WeighpointUplink

@main
struct CaseSinkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weighpoint-case-sink",
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
        @Option(help: "Directory of unit public keys by device: DEVICE_ID.pem (and DEVICE_ID.LABEL.pem for a device's earlier key).") var trust: String
        @Option(help: "Also require this bearer token (Authorization: Bearer …).") var token: String?
        @Option(help: "Where received records and images are kept.") var data: String

        func run() async throws {
            guard let address = HostPort(listen) else {
                throw ValidationError("--listen '\(listen)' is not HOST:PORT")
            }
            var tls: SinkTLS?
            if !plainHttp {
                guard let tlsCert, let tlsKey, let clientCa else { throw ValidationError("--tls-cert, --tls-key and --client-ca are required (or --plain-http)") }
                tls = SinkTLS(certificatePath: tlsCert, keyPath: tlsKey, clientCAPath: clientCa)
            }
            do {
                let registry = DeviceKeyDirectory(directory: trust)
                let (devices, problems) = registry.inventory()
                for p in problems { printError("weighpoint-case-sink: skipped \(p)") }
                guard !devices.isEmpty else { throw ValidationError("no DEVICE_ID.pem public keys in \(trust)") }
                let ledger = try CaseLedger(directory: data, registry: registry)
                let scheme = tls == nil ? "http" : "https"
                let app = try CaseSink.application(host: address.host, port: address.port, tls: tls, ledger: ledger, bearerToken: token) { bound in
                    let names = devices.keys.sorted()
                    printError("case-sink listening on \(scheme)://\(address.host):\(bound), \(devices.count) device(s) registered (\(devices.values.reduce(0, +)) key(s)): \(names.prefix(20).joined(separator: ", "))\(names.count > 20 ? ", …" : ""); data in \(data)")
                }
                try await app.runService()
            } catch let e as ValidationError {
                throw e
            } catch {
                printError("weighpoint-case-sink: \(error)")
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
                printError("weighpoint-case-sink list: \(error)")
                throw ExitCode(1)
            }
        }
    }
}

import WeighpointCrypto
import ArgumentParser
import Foundation
import WeighpointCommandLine
import WeighpointEvidence
import WeighpointService
import WeighpointUplink

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
            // Delivery commits nothing: the identity only opens the store under its own device ID.
            let sw = try SoftwareIdentity.current()
            let identity = UnitIdentity(
                deviceID: EvidenceStore.storedDeviceID(directory: data) ?? "", station: [:], instrument: [:],
                calibrationProfileSHA256: String(repeating: "0", count: 64), softwareVersion: sw.version, softwareSHA256: sw.executableSHA256)
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

import ArgumentParser
import Foundation
import WeighpointCommandLine
import WeighpointCrypto
import WeighpointService

/// Issuing the credentials cameras push plate reads with (Docs/security.md).
struct CredentialCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credential",
        abstract: "Credentials for cameras that push plate reads: a new bearer token, or the lines for a client certificate.",
        discussion: """
            Each line printed goes into the camera's credentials in station.toml, e.g. \
            credentials = ["certificate:9F86…"]. Give a camera two while one replaces the other, \
            then remove the old one.
            """,
        subcommands: [Token.self, Certificate.self])

    struct Token: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new bearer token: the token for the camera, and its credential line (a SHA-256; the unit keeps no token).")

        @Option(help: "Write the token to this file (mode 0600) instead of standard output.")
        var out: String?

        func run() throws {
            let token = PushCredential.newToken()
            if let out {
                guard FileManager.default.createFile(atPath: out, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
                    printError("weighpoint credential token: cannot write \(out)")
                    throw ExitCode(1)
                }
                print("token written to \(out)")
            } else {
                print("token: \(token)")
            }
            print("credential: \"\(PushCredential.configured(token: token))\"")
        }
    }

    struct Certificate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the credential lines of the client certificate(s) in a PEM file: by SHA-256 fingerprint and by subject.")

        @Argument(help: "A camera's client certificate, PEM.")
        var file: String

        func run() throws {
            do {
                for id in try CertificateIdentity.fromPEMFile(file) {
                    for line in PushCredential.configured(certificate: id) { print("credential: \"\(line)\"") }
                }
            } catch {
                printError("weighpoint credential certificate: \(error)")
                throw ExitCode(1)
            }
        }
    }
}

import WeighpointCrypto
import ArgumentParser
import Foundation
import WeighpointCommandLine
import WeighpointCore
import WeighpointEvidence
import WeighpointService

struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Generate a signing key pair: DIR/key.pem (mode 0600) and DIR/pub.pem.")

    @Option(help: "sm2, p256 or ed25519.")
    var alg: String

    @Option(help: "Directory to write the key pair into.")
    var out: String

    func run() throws {
        guard let a = SignatureAlgorithm(rawValue: alg) else { throw ValidationError("--alg must be sm2, p256 or ed25519") }
        do {
            let key = try SigningKey.generate(a)
            let paths = try key.write(to: out)
            print("key_id=\(try key.keyID()) alg=\(a.envelopeName) private=\(paths.privatePath) public=\(paths.publicPath)")
        } catch {
            printError("weighpoint keygen: \(error)")
            throw ExitCode(1)
        }
    }
}

struct Records: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List, show and export stored records.", subcommands: [List.self, Show.self, Export.self])

    static func archive(_ dir: String) throws -> EvidenceArchive {
        do {
            return try EvidenceArchive(directory: dir)
        } catch {
            printError("weighpoint records: \(error)")
            throw ExitCode(1)
        }
    }

    struct List: ParsableCommand {
        @Option(help: "Data directory.") var data: String
        @Option(help: "At most this many, newest last.") var limit = 50

        func run() throws {
            let records = try Records.archive(data).records()
            for r in records.suffix(limit) {
                print("\(r.seq)\t\(r.createdAt)\t\(r.decision)\t\(r.plate ?? "-")\t\(r.acknowledgedAt.map { "acknowledged \($0)" } ?? "not delivered")")
            }
        }
    }

    struct Show: ParsableCommand {
        @Option(help: "Data directory.") var data: String
        @Argument(help: "Record sequence number.") var seq: Int64

        func run() throws {
            guard let r = try Records.archive(data).records(from: seq, limit: 1).first, r.seq == seq else {
                printError("weighpoint records show: no record \(seq) in \(data)")
                throw ExitCode(1)
            }
            print(String(decoding: r.body, as: UTF8.self))
            print("# sha256=\(r.hash) alg=\(r.algorithm.envelopeName) key_id=\(r.keyID) signature=\(Data(r.signature).base64EncodedString())")
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write record.json (the signed bytes), record.sig, pubkey.pem, envelope.json and the images.")
        @Option(help: "Data directory.") var data: String
        @Option(help: "Output directory.") var out: String
        @Argument(help: "Record sequence number.") var seq: Int64

        func run() throws {
            do {
                // Exports only read; the signing key is not needed, so open the archive and copy.
                let archive = try EvidenceArchive(directory: data)
                guard let r = try archive.records(from: seq, limit: 1).first, r.seq == seq else { throw StoreError.io(data, "no record \(seq)") }
                try EvidenceExport.write(r, from: data, to: out)
                print("exported record \(seq) to \(out)")
            } catch {
                printError("weighpoint records export: \(error)")
                throw ExitCode(1)
            }
        }
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Verify a record export or a whole data directory: signatures, chain continuity, image hashes.",
        discussion: "Exit status 0 when everything verifies, 1 when anything does not.")

    @Argument(help: "A record export directory (with record.json) or a data directory (with evidence.sqlite).")
    var path: String

    func run() throws {
        // A receiver's data directory holds one unit directory per device.
        if !FileManager.default.fileExists(atPath: path + "/evidence.sqlite"), FileManager.default.fileExists(atPath: path + "/devices") {
            let devices = ((try? FileManager.default.contentsOfDirectory(atPath: path + "/devices")) ?? []).sorted()
            var failed = false
            for d in devices {
                do { try Verify.parse([path + "/devices/" + d]).run() } catch { failed = true }
            }
            if devices.isEmpty { print("\(path): no devices yet") }
            if failed { throw ExitCode(1) }
            return
        }
        let isExport = FileManager.default.fileExists(atPath: path + "/record.json")
        let problems = isExport ? EvidenceStore.verifyExport(path) : EvidenceStore.verifyDirectory(path)
        if problems.isEmpty {
            if isExport {
                print("OK: \(path): signature, canonical form and images verify")
            } else {
                let a = try Records.archive(path)
                print("OK: \(path): \(try a.records().count) records and \(try a.auditEntries().count) audit entries verify (signatures, chains, images)")
            }
            return
        }
        for p in problems { print("FAIL: \(p)") }
        print("\(problems.count) problem(s) in \(path)")
        throw ExitCode(1)
    }
}

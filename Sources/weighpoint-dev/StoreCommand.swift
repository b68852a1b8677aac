import WeighpointCrypto
import ArgumentParser
import Foundation
import WeighpointCommandLine
import WeighpointCore
import WeighpointEvidence
import WeighpointScenario
import WeighpointService
import WeighpointTesting
import WeighpointJSON

struct Store: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Exercise the evidence store: a load generator (crash test) and the benchmark.",
        subcommands: [Load.self, FromScenario.self, Bench.self])

    /// The identity test loads carry: this executable's, at a test station.
    static func testIdentity() throws -> UnitIdentity {
        let sw = try SoftwareIdentity.current()
        return UnitIdentity(
            deviceID: "WP-LOAD-0001", station: ["code": .string("TEST-STATION"), "site_type": .string("test")],
            instrument: ["model": .string("simulated"), "serial": .string("SIM-1"), "accuracy_class": .int(5)],
            calibrationProfileSHA256: String(repeating: "0", count: 64), softwareVersion: sw.version, softwareSHA256: sw.executableSHA256)
    }

    /// Content and images for synthetic record `i`.
    static func synthetic(_ i: Int, images: Int, imageSize: Int) -> (RecordContent, [EvidenceImage]) {
        let w = Weighing(
            seq: UInt64(i), lane: 1 + i % 2, time: ClockState.now(), speedKmh: 54, body: .combination, driveAxles: 2,
            axles: [Axle(kg: 7000, tyres: .single)] + (0..<5).map { _ in Axle(kg: 9000 + i % 900, tyres: .dual) }, groups: [1, 2, 3])
        let a = Assessor(rules: AssessmentRules()).assess(w, plates: [])
        let read = PlateRead(camera: "front-1", time: w.time, text: String(format: "苏A%05d", i % 100_000), color: .yellow, confidence: 0.9)
        let content = RecordContent(weighing: w, assessment: a, front: read, rear: nil)
        let roles = ["plate", "front", "rear", "side"]
        let imgs = (0..<images).map { k -> EvidenceImage in
            var bytes = [UInt8](repeating: UInt8(truncatingIfNeeded: i &+ k), count: imageSize)
            bytes[0] = 0xFF; bytes[1] = 0xD8
            withUnsafeBytes(of: UInt64(i)) { for (j, b) in $0.enumerated() { bytes[2 + j] = b } }
            bytes[10] = UInt8(k)
            return EvidenceImage(role: roles[k % roles.count], camera: "cam-\(k)", capturedAt: w.time, bytes: bytes)
        }
        return (content, imgs)
    }

    /// What `weighpoint replay --store` did before signing moved off the shipped tool.
    struct FromScenario: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "replay",
            abstract: "Replay a scenario and commit every decision but ok as a signed record (test identity).")

        @Argument(help: "Scenario file (Docs/decision-core.md).") var file: String
        @Option(help: "Data directory.") var data: String
        @Option(help: "Private key PEM.") var key: String

        func run() throws {
            do {
                let scenario = try Scenario.parse(try String(contentsOfFile: file, encoding: .utf8))
                let store = try EvidenceStore(directory: data, key: try SigningKey.load(path: key), identity: try Store.testIdentity())
                for d in scenario.replay() where d.assessment.decision != .ok {
                    let r = try store.commit(RecordContent(weighing: d.weighing, assessment: d.assessment, front: d.front, rear: d.rear, watchHits: d.watchHits), images: [])
                    print("committed \(r.seq)")
                }
            } catch {
                printError("weighpoint-dev store replay: \(file): \(error)")
                throw ExitCode(1)
            }
        }
    }

    struct Load: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Commit synthetic records as fast as possible, printing 'committed SEQ' after each commit returns.")

        @Option(help: "Data directory.") var data: String
        @Option(help: "Private key PEM.") var key: String
        @Option(help: "Stop after this many records (default: until killed).") var count: Int?
        @Option(help: "Images per record.") var images = 2
        @Option(help: "Bytes per image.") var imageSize = 20_000

        func run() throws {
            do {
                let store = try EvidenceStore(directory: data, key: try SigningKey.load(path: key), identity: try Store.testIdentity())
                var i = (try store.records().last.map { Int($0.seq) }) ?? 0
                while count.map({ i < $0 }) ?? true {
                    i += 1
                    let (content, imgs) = Store.synthetic(i, images: images, imageSize: imageSize)
                    let r = try store.commit(content, images: imgs)
                    FileHandle.standardOutput.write(Data("committed \(r.seq)\n".utf8))
                }
            } catch {
                printError("weighpoint store load: \(error)")
                throw ExitCode(1)
            }
        }
    }

    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Records committed per second with their images, against the floor of the same bytes fsynced plus one SQLite FULL commit.")

        @Option(help: "Directory on the disk to measure (a fresh subdirectory is used and removed).") var dir = "/tmp"
        @Option(help: "Records per run.") var records = 100
        @Option(help: "Images per record.") var images = 3
        @Option(help: "Bytes per image.") var imageSize = 300_000

        func run() throws {
            let base = dir + "/weighpoint-store-bench-\(getpid())"
            defer { try? FileManager.default.removeItem(atPath: base) }
            print("store bench: \(records) records × \(images) images × \(imageSize) bytes, in \(dir)")
            let key = try SigningKey.generate(.sm2)
            let store = try EvidenceStore(directory: base + "/store", key: key, identity: try Store.testIdentity())
            let prepared = (1...records).map { Store.synthetic($0, images: images, imageSize: imageSize) }
            let start = Date()
            for (content, imgs) in prepared { try store.commit(content, images: imgs) }
            let storeSeconds = Date().timeIntervalSince(start)
            let floorSeconds = try StoreFloor.run(directory: base + "/floor", records: prepared.map { $0.1.map(\.bytes) })
            let hashStart = Date()
            for (_, imgs) in prepared { for img in imgs { _ = try Digest.hexDigest(of: img.bytes) } }
            let hashSeconds = Date().timeIntervalSince(hashStart)
            let signStart = Date()
            for r in try store.records() { _ = try key.sign(r.body) }
            let signSeconds = Date().timeIntervalSince(signStart)
            let perStore = storeSeconds / Double(records) * 1000, perFloor = floorSeconds / Double(records) * 1000
            print("evidence store (SM2)   \(format(Double(records) / storeSeconds, 1)) records/s, \(format(perStore, 2)) ms per record")
            print("floor                  \(format(Double(records) / floorSeconds, 1)) records/s, \(format(perFloor, 2)) ms per record")
            print("ratio store/floor: \(format(storeSeconds / floorSeconds, 2))× the time per record")
            print("  of the difference, SHA-256 of the images (content addressing): \(format(hashSeconds / Double(records) * 1000, 2)) ms per record")
            print("  of the difference, the SM2 signature of the record: \(format(signSeconds / Double(records) * 1000, 2)) ms per record")
            guard EvidenceStore.verifyDirectory(base + "/store").isEmpty else { throw ValidationError("the benchmark's store does not verify") }
        }
    }
}

import Foundation
import WeighpointCore
import WeighpointEvidence
import WeighpointImaging
import WeighpointJSON
import WeighpointModbus
import WeighpointScenario
import WeighpointService
import WeighpointTesting

/// The parsers that take bytes from outside the unit, each a fuzz target (Docs/tests.md):
/// - `reads`: a `POST /v1/reads` body through the unit's intake. Whatever it takes is within
///   bounds: a configured camera, a plate of 1–16 characters and at most 32 bytes with no
///   control characters, a time inside the window, a confidence in 0…1.
/// - `envelope`: a `POST /v1/records` body through the receiver's parsers (the envelope and
///   the overload-exchange form) and the signed-record reader. The canonical form of any JSON
///   accepted is a fixed point: parsed again and written again, the same bytes.
/// - `scenario`: a `weighpoint replay` file.
/// - `wim`: a controller's register block decoded with each register map in Hardware/wim.
/// - `jpeg`: a camera frame decoded as JPEG (libjpeg-turbo through WeighpointImaging).
/// - `config`: a file as the station configuration, as the technicians file and as a
///   calibration profile, and as a WIM register map (`--check-config` reads all four): each is
///   accepted or refused with problems, never an abort inside the TOML library.
/// Each input must not crash, trap, leak or hang (AddressSanitizer and libFuzzer check), and
/// the stated properties are preconditions.
enum InputFuzz {
    static let targets = ["reads", "envelope", "scenario", "wim", "jpeg", "config"]

    static let start = Timestamp(rfc3339: "2026-12-01T08:00:00Z")!
    static let clock = ManualClock(start)
    static let intake = PlateReadIntake(cameras: ["front-1", "rear-1"], limits: .init(), clock: clock)
    static let profiles: [WIMProfile] = ["generic-wim-v1", "acme-x2"].compactMap { try? WIMProfile.load($0) }

    static func run(_ target: String, _ bytes: [UInt8]) {
        switch target {
        case "reads": reads(bytes)
        case "envelope": envelope(bytes)
        case "scenario": _ = try? Scenario.parse(String(decoding: bytes, as: UTF8.self))
        case "wim": wim(bytes)
        case "jpeg": jpeg(bytes)
        case "config": config(bytes)
        default: fatalError("no fuzz target '\(target)' (one of \(targets.joined(separator: ", ")))")
        }
    }

    static func reads(_ bytes: [UInt8]) {
        // Every input at the same moment, from an address of its own (the rate is counted per
        // address): the seeds' times stay in the window and the rate never hides the parser.
        clock.set(start)
        sourceNumber &+= 1
        guard case .accepted(let reads) = intake.take(bytes, from: ReadSender(credential: "token:fuzz", cameras: ["front-1"], transport: "https-bearer-token", address: "fuzz-\(sourceNumber % 4000)")) else { return }
        let now = clock.now().microseconds
        for r in reads {
            precondition(r.camera == "front-1", "a read for \(r.camera) taken from a sender for front-1 only")
            precondition((1...16).contains(r.text.unicodeScalars.count) && r.text.utf8.count <= 32, "plate \(r.text.debugDescription)")
            precondition(!r.text.unicodeScalars.contains { $0.properties.generalCategory == .control })
            precondition(r.time.microseconds <= now + intake.limits.clockSkewMicroseconds && r.time.microseconds >= now - intake.limits.maxAgeMicroseconds)
            precondition((0...1).contains(r.confidence))
        }
    }

    nonisolated(unsafe) static var sourceNumber = 0

    static func envelope(_ bytes: [UInt8]) {
        guard let v = try? JSONValue.parse(bytes) else { return }
        // RFC 8785 writes numbers as their shortest double (2.5e3 as 2500, -0 as 0): the canonical
        // form is a fixed point, not the parsed value itself.
        let canonical = v.canonicalBytes
        precondition((try? JSONValue.parse(canonical))?.canonicalBytes == canonical, "canonical bytes are not canonical when parsed again")
        let parsed = v["signedRecord"] != nil ? OverloadExchange.parse(v) : RecordEnvelope.parse(v)
        if case .success(let e) = parsed, let body = try? JSONValue.parse(e.body) {
            let f = SignedRecordFields(body)
            _ = (f.deviceID.map(DeviceID.isValid), f.evidence.count, f.columns)
        }
    }

    static func wim(_ bytes: [UInt8]) {
        let words = stride(from: 0, to: bytes.count - 1, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
        for p in profiles {
            var block = Array(words.prefix(p.blockLength))
            block += Array(repeating: 0, count: p.blockLength - block.count)
            let w = p.decode(block).weighing(p)
            precondition(w.axles.count <= p.maxAxles, "\(w.axles.count) axles from a map of \(p.maxAxles)")
            _ = w.invalidityReasons()
        }
    }

    static func config(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        // The files a station configuration names: none exist, so only the text itself is read.
        do { _ = try StationConfig.parse(text, file: "/fuzz/station.toml", files: InMemoryConfigFiles([:])) } catch {
            precondition(!error.problems.isEmpty, "refused without a problem")
        }
        _ = try? TechnicianFile.parse(text, file: "/fuzz/technicians.toml")
        _ = try? CalibrationFile.parse(text, file: "/fuzz/calibration.toml", lanes: [1, 2])
        _ = try? WIMProfile.parse(text, source: "/fuzz/map.toml")
    }

    static func jpeg(_ bytes: [UInt8]) {
        if let d = JPEGEncoder.dimensions(of: bytes), d.width * d.height > 16_000_000 { return }  // a bomb: the unit's cameras are 1080p
        if let img = try? decodeJPEG(bytes, fitting: (640, 480)) { precondition(img.rgb.count >= img.width * img.height * 3) }
    }
}

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

/// The target, from WEIGHPOINT_FUZZ_TARGET (libFuzzer owns the command line).
let fuzzTarget = ProcessInfo.processInfo.environment["WEIGHPOINT_FUZZ_TARGET"] ?? "reads"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    InputFuzz.run(fuzzTarget, Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

@main
struct InputFuzzMain {
    static func main() {
        // Loaded before fuzzing starts. TOMLKit never frees what its C++ layer mallocs for each
        // key list and value read (suppressed in Fuzz/lsan.supp, about 1 KB a file parsed).
        _ = (InputFuzz.profiles, InputFuzz.intake)
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzerTestOneInput))
    }
}
#else

/// Without libFuzzer: `input-fuzz DIR…` replays a corpus laid out as DIR/<target>/<input>
/// through the same checks (what `make test` runs on Fuzz/corpus).
@main
struct InputFuzzReplay {
    static func main() {
        var counts: [String: Int] = [:]
        for root in CommandLine.arguments.dropFirst() {
            for target in InputFuzz.targets {
                let dir = root + "/" + target
                for name in ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted() {
                    guard let d = FileManager.default.contents(atPath: dir + "/" + name) else { continue }
                    InputFuzz.run(target, Array(d))
                    counts[target, default: 0] += 1
                }
            }
        }
        guard !counts.isEmpty else {
            FileHandle.standardError.write(Data("input-fuzz: no inputs under \(CommandLine.arguments.dropFirst().joined(separator: " ")) (expected DIR/<\(InputFuzz.targets.joined(separator: "|"))>/…)\n".utf8))
            exit(1)
        }
        print("input-fuzz: " + InputFuzz.targets.map { "\($0) \(counts[$0] ?? 0)" }.joined(separator: ", ") + " inputs replayed, no failure")
    }
}
#endif

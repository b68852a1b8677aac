import ArgumentParser
import Foundation
import WeighpointCapture
import WeighpointCore
import WeighpointEvidence
import WeighpointRecognition
import WeighpointService
import WeighpointTesting
import WeighpointJSON

struct Plates: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Match plates against permit and watch lists, benchmark the plate index, read plates in images.",
        subcommands: [Match.self, Bench.self, Recognize.self])
}

/// Reads one plate per line; lines that are not GA 36 plates are reported on standard error
/// with file and line number and skipped.
func readPlateFile(_ path: String) throws -> [String] {
    do {
        let (plates, problems) = try PlateListFile.read(path)
        for p in problems { printError(p.description) }
        return plates
    } catch {
        printError("weighpoint plates: \(error)")
        throw ExitCode(1)
    }
}

func matchesJSON(query: String, _ matches: [PlateMatch]) -> String {
    JSONValue.object([
        "query": .string(query),
        "matches": .array(matches.map { .object(["plate": .string($0.plate), "kind": .string($0.kind.rawValue)]) }),
    ]).text
}

extension Plates {
    struct Match: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Match each query plate against a list; one JSON line per query.",
            discussion: """
                Both files hold one plate per line and are normalised. Matches are sorted by kind \
                (exact, lookalike, edit), then plate. Build and lookup timings go to standard error.
                """)

        @Option(help: "The list: permits, a watch list, … one plate per line.")
        var list: String

        @Option(help: "Plates to look up, one per line.")
        var queries: String

        func run() throws {
            let entries = try readPlateFile(list)
            let clock = ContinuousClock()
            var index: PlateIndex!
            let build = clock.measure { index = PlateIndex(entries) }
            let queryPlates = try readPlateFile(queries)
            var out = ""
            out.reserveCapacity(queryPlates.count * 64)
            let lookup = clock.measure {
                for q in queryPlates { out += matchesJSON(query: q, index.matches(for: q)) + "\n" }
            }
            FileHandle.standardOutput.write(Data(out.utf8))
            let perQuery = queryPlates.isEmpty ? 0 : lookup.microseconds / Double(queryPlates.count)
            printError("list=\(index.count) build_ms=\(format(build.milliseconds, 1)) queries=\(queryPlates.count) lookup_ms=\(format(lookup.milliseconds, 1)) per_query_us=\(format(perQuery, 2))")
        }
    }

    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Benchmark the plate index against the plain scan and rapidfuzz, side by side.",
            discussion: "Build in release mode first (make bench-plates does). See BENCHMARKS.md.")

        @Option(help: "Plates in the synthetic list.")
        var size = 1_000_000

        @Option(help: "Queries timed against the index.")
        var queries = 100_000

        @Option(help: "Queries also run through the plain scan (and checked to agree).")
        var plainSample = 200

        @Option(help: "Python with rapidfuzz installed; runs Benchmarks/rapidfuzz_peer.py on a sample.")
        var rapidfuzz: String?

        @Option(help: "Queries sent to rapidfuzz.")
        var rapidfuzzSample = 50

        @Option(help: "Seed of the synthetic list and queries.")
        var seed: UInt64 = 1

        func run() throws {
            var gen = SyntheticPlates(seed: seed)
            let entries = gen.list(count: size)
            let qs = gen.queries(count: queries, about: entries)
            print("plates bench: \(size) plates, \(queries) queries, seed \(seed), \(ProcessInfo.processInfo.activeProcessorCount) cores")

            let clock = ContinuousClock()
            let rssBefore = residentKiB()
            var index: PlateIndex!
            let build = clock.measure { index = PlateIndex(entries) }
            let rssAfter = residentKiB()
            let normalise = clock.measure { _ = PlateList.normalizedUnique(entries) }
            print("index build            \(format(build.milliseconds / 1000, 2)) s")
            print("  normalise + dedupe   \(format(normalise.milliseconds / 1000, 2)) s (measured again on its own)")
            print("index memory (RSS Δ)   \((rssAfter - rssBefore) / 1024) MB")

            // Warm-up pass, then one timed lookup per query.
            var sink = 0
            for q in qs.prefix(1000) { sink &+= index.matches(for: q).count }
            var nanos = [Int64](repeating: 0, count: qs.count)
            for (i, q) in qs.enumerated() {
                let start = clock.now
                sink &+= index.matches(for: q).count
                nanos[i] = (clock.now - start).nanoseconds
            }
            let classes = ["exact", "look-alike", "one-edit", "unrelated"]
            print("index lookup, all      \(percentiles(nanos))")
            for (c, name) in classes.enumerated() {
                let subset = nanos.enumerated().filter { $0.offset % 4 == c }.map(\.element)
                print("  \(name.padding(toLength: 20, withPad: " ", startingAt: 0)) \(percentiles(subset))")
            }
            let editAndLookalike = nanos.enumerated().filter { $0.offset % 4 == 1 || $0.offset % 4 == 2 }.map(\.element)
            let indexMean = Double(nanos.reduce(0, +)) / Double(max(nanos.count, 1))

            // The plain scan on a sample: timing and agreement.
            let list = PlateList(entries)
            var plainNanos: [Int64] = []
            var disagreements = 0
            for q in qs.prefix(plainSample) {
                let start = clock.now
                let plain = list.matches(for: q)
                plainNanos.append((clock.now - start).nanoseconds)
                if plain != index.matches(for: q) { disagreements += 1 }
            }
            let plainMean = Double(plainNanos.reduce(0, +)) / Double(max(plainNanos.count, 1))
            print("plain scan             \(percentiles(plainNanos)) (\(plainNanos.count) queries; index agrees on \(plainNanos.count - disagreements))")

            var rapidMean: Double?
            if let python = rapidfuzz {
                rapidMean = try runRapidfuzz(python: python, entries: entries, queries: Array(qs.prefix(rapidfuzzSample)), index: index)
            }
            print("ratios (mean per query): plain/index \(format(plainMean / indexMean, 0))×" + (rapidMean.map { ", rapidfuzz/index \(format($0 / indexMean, 0))×" } ?? ""))
            print("targets: p50 ≤ 5 µs and p99 ≤ 50 µs for look-alike + one-edit queries: \(percentiles(editAndLookalike)); build ≤ 3 s; memory ≤ 250 MB")
            if disagreements > 0 {
                printError("index and plain scan disagree on \(disagreements) queries")
                throw ExitCode(1)
            }
            _ = sink
        }

        /// Runs the rapidfuzz peer on `queries`, checks its Levenshtein ≤ 1 sets against the
        /// index's (exact, edit, and look-alikes differing in one position), returns mean ns/query.
        func runRapidfuzz(python: String, entries: [String], queries: [String], index: PlateIndex) throws -> Double {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("weighpoint-bench-\(getpid())")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let listFile = dir.appendingPathComponent("list.txt"), queryFile = dir.appendingPathComponent("queries.txt")
            try (entries.joined(separator: "\n") + "\n").write(to: listFile, atomically: true, encoding: .utf8)
            try (queries.map(Plate.normalize).joined(separator: "\n") + "\n").write(to: queryFile, atomically: true, encoding: .utf8)
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Benchmarks/rapidfuzz_peer.py").standardized.path
            let p = Process()
            p.executableURL = URL(fileURLWithPath: python)
            p.arguments = [script, listFile.path, queryFile.path]
            let out = Pipe(), err = Pipe()
            p.standardOutput = out
            p.standardError = err
            try p.run()
            let outData = out.fileHandleForReading.readDataToEndOfFile()
            let errData = err.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            guard p.terminationStatus == 0,
                let summary = parseJSON(errData.split(separator: UInt8(ascii: "\n")).last.map { Array($0) } ?? []),
                let seconds = summary["seconds"]?.numberValue
            else {
                printError("rapidfuzz peer failed: \(String(decoding: errData, as: UTF8.self))")
                throw ExitCode(1)
            }
            var agree = 0
            let lines = outData.split(separator: UInt8(ascii: "\n"))
            for (q, line) in zip(queries, lines) {
                let theirs = parseJSON(Array(line))?["matches"]?.arrayValue?.compactMap(\.stringValue) ?? []
                let ours = index.matches(for: q).filter { m in
                    m.kind != .lookalike || zip(Plate.normalize(q).unicodeScalars, m.plate.unicodeScalars).filter { $0 != $1 }.count == 1
                }.map(\.plate)
                if Set(theirs) == Set(ours) { agree += 1 }
            }
            let mean = seconds * 1e9 / Double(max(queries.count, 1))
            print("rapidfuzz extract ≤1   mean \(format(mean / 1e6, 1)) ms (\(queries.count) queries, rapidfuzz \(summary["rapidfuzz"]?.stringValue ?? "?"); Levenshtein ≤ 1 sets agree on \(agree))")
            if agree != queries.count {
                printError("rapidfuzz and the index disagree on \(queries.count - agree) queries")
                throw ExitCode(1)
            }
            return mean
        }
    }
}

func percentiles(_ nanos: [Int64]) -> String {
    guard !nanos.isEmpty else { return "no samples" }
    let s = nanos.sorted()
    func at(_ p: Double) -> Int64 { s[min(s.count - 1, Int(Double(s.count) * p))] }
    func show(_ ns: Int64) -> String { ns >= 1_000_000 ? "\(format(Double(ns) / 1e6, 1)) ms" : "\(format(Double(ns) / 1000, 2)) µs" }
    let mean = Double(s.reduce(0, +)) / Double(s.count)
    return "p50 \(show(at(0.5)))  p99 \(show(at(0.99)))  mean \(show(Int64(mean)))"
}

/// Resident set size of this process in KiB, from /proc/self/status.
func residentKiB() -> Int {
    let status = FileHandle(forReadingAtPath: "/proc/self/status").map { String(decoding: $0.readDataToEndOfFile(), as: UTF8.self) } ?? ""
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
    }
    return 0
}

func format(_ v: Double, _ decimals: Int) -> String { String(format: "%.\(decimals)f", v) }

extension Duration {
    var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
    var microseconds: Double { Double(nanoseconds) / 1000 }
    var milliseconds: Double { Double(nanoseconds) / 1e6 }
}

extension Plates {
    struct Recognize: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Find and read the plates in images with the built-in recogniser; one JSON line per image.",
            discussion: """
                Each line: file, image size, the time taken, and every plate found: text (the likeliest \
                GA 36 plate), layout kind, colour, confidence (the weakest character's probability), \
                whether that reaches --threshold (what the unit reports as a plate; below it a record \
                says plate unknown with candidates), box [x, y, width, height], detector score, per \
                character the character and its alternatives with probabilities, and the published \
                pipeline's best-path reading of the same network output for comparison. Technicians \
                use it to check a camera's aim; it is also the evaluation tool (Scripts/plate-eval).
                """)

        @Argument(help: "JPEG images.")
        var images: [String]

        @Option(help: "The model directory (Scripts/install-models).")
        var models = PlateRecognizer.defaultModelsDirectory

        @Option(help: "Region of interest x,y,width,height in pixels (default: the whole image).")
        var roi: String?

        @Option(help: "The detector's scales: the region's longest side as it sees it, comma-separated.")
        var detectSides = PlateRecognizer.Settings().detectSides.map(String.init).joined(separator: ",")

        @Option(help: "Scales tried once more when nothing is found, comma-separated, or 'none'.")
        var fallbackSides = PlateRecognizer.Settings().fallbackSides.map(String.init).joined(separator: ",")

        @Option(help: "When nothing is found: plate-shaped regions dense in edges read, at most this many (0: none).")
        var edgeSearch = PlateRecognizer.Settings().edgeSearch

        @Option(help: "Detector score from which a box is read.")
        var minScore = PlateRecognizer.Settings().minDetectorScore

        @Option(help: "Confidence from which a reading counts as a plate.")
        var threshold = PlateRecognizer.defaultThreshold

        @Flag(help: "The images are frames of one vehicle: after their lines, print the plate voted across them.")
        var vote = false

        func run() throws {
            var settings = PlateRecognizer.Settings()
            settings.detectSides = detectSides.split(separator: ",").compactMap { Int($0) }
            settings.minDetectorScore = minScore
            settings.fallbackSides = fallbackSides == "none" ? [] : fallbackSides.split(separator: ",").compactMap { Int($0) }
            guard (0...12).contains(edgeSearch) else { throw ValidationError("--edge-search \(edgeSearch): 0-12 regions") }
            settings.edgeSearch = edgeSearch
            guard !settings.detectSides.isEmpty else { throw ValidationError("--detect-sides '\(detectSides)': sizes in pixels, e.g. 640,1024") }
            let recognizer: PlateRecognizer
            do {
                recognizer = try PlateRecognizer(models: models, settings: settings)
            } catch {
                printError("weighpoint plates recognize: \(error)")
                throw ExitCode(1)
            }
            var region: PlateBox?
            if let roi {
                let v = roi.split(separator: ",").compactMap { Int($0) }
                guard v.count == 4, v[2] > 0, v[3] > 0 else { throw ValidationError("--roi '\(roi)': x,y,width,height in pixels") }
                region = PlateBox(x: v[0], y: v[1], width: v[2], height: v[3])
            }
            var failed = false
            for path in images {
                guard let data = FileManager.default.contents(atPath: path) else {
                    printError("weighpoint plates recognize: \(path): cannot read the file")
                    failed = true
                    continue
                }
                let start = ContinuousClock.now
                do {
                    let (rgb, w, h) = try decodeJPEG([UInt8](data))
                    let decoded = ContinuousClock.now
                    let plates = try recognizer.read(rgb: rgb, width: w, height: h, roi: region)
                    let done = ContinuousClock.now
                    let items = plates.map { plateJSON($0) }
                    let line = JSONValue.object([
                        "file": .string(path), "width": .int(Int64(w)), "height": .int(Int64(h)),
                        "decode_ms": .double(((decoded - start).milliseconds * 10).rounded() / 10),
                        "recognize_ms": .double(((done - decoded).milliseconds * 10).rounded() / 10),
                        "plates": .array(items),
                    ])
                    print(String(decoding: line.canonicalBytes, as: UTF8.self))
                } catch {
                    printError("weighpoint plates recognize: \(path): \(error)")
                    failed = true
                }
            }
            if vote {
                var frames: [CapturedFrame] = []
                for (i, path) in images.enumerated() {
                    guard let d = FileManager.default.contents(atPath: path), let size = JPEGEncoder.dimensions(of: [UInt8](d)) else { continue }
                    frames.append(CapturedFrame(sequence: UInt32(i), time: Timestamp(milliseconds: Int64(i) * 40), format: .mjpeg, width: size.width, height: size.height, bytes: [UInt8](d)))
                }
                let start = ContinuousClock.now
                let plates = try VehiclePlateReader(recognizer: recognizer).read(frames, roi: region)
                let ms = (ContinuousClock.now - start).milliseconds
                var best = JSONValue.null
                if let p = plates.first {
                    var o: JSONObject = ["text": .string(p.reading.text), "kind": .string(p.reading.kind.rawValue)]
                    o["confidence"] = .double(round4(p.reading.confidence))
                    o["accepted"] = .bool(p.reading.confidence >= threshold)
                    o["color"] = .string(p.color.rawValue)
                    o["frames"] = .int(Int64(p.frames))
                    o["frames_read"] = .int(Int64(p.framesRead))
                    o["candidates"] = .array(p.candidates.map(JSONValue.string))
                    o["box"] = .array([p.box.x, p.box.y, p.box.width, p.box.height].map { .int(Int64($0)) })
                    best = .object(o)
                }
                print(String(decoding: JSONValue.object(["vote": best, "images": .int(Int64(images.count)), "ms": .double((ms * 10).rounded() / 10)]).canonicalBytes, as: UTF8.self))
            }
            if failed { throw ExitCode(1) }
        }

        func plateJSON(_ p: DetectedPlate) -> JSONValue {
            var o: JSONObject = [
                "box": .array([p.box.x, p.box.y, p.box.width, p.box.height].map { .int(Int64($0)) }),
                "detector": .double(round4(p.detectorScore)), "color": .string(p.color.rawValue), "rows": .int(Int64(p.rows)),
                "best_path": .object(["text": .string(p.bestPath.text), "confidence": .double(round4(p.bestPath.confidence))]),
            ]
            if let r = p.reading {
                o["text"] = .string(r.text)
                o["kind"] = .string(r.kind.rawValue)
                o["confidence"] = .double(round4(r.confidence))
                o["accepted"] = .bool(r.confidence >= threshold)
                o["characters"] = .array(r.characters.map { alts in
                    .array(alts.map { .array([.string(String($0.character)), .double(round4($0.probability))]) })
                })
            } else {
                o["text"] = .null
            }
            return .object(o)
        }
    }
}

func round4(_ v: Double) -> Double { (v * 10_000).rounded() / 10_000 }

import ArgumentParser
import Foundation
import WeighpointCommandLine
import WeighpointCapture
import WeighpointCore
import WeighpointEvidence
import WeighpointRecognition
import WeighpointService
import WeighpointTesting
import WeighpointJSON

extension Plates {
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

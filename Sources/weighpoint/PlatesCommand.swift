import WeighpointImaging
import ArgumentParser
import Foundation
import WeighpointCommandLine
import WeighpointCapture
import WeighpointCore
import WeighpointEvidence
import WeighpointRecognition
import WeighpointService
import WeighpointJSON

struct Plates: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Match plates against permit and watch lists, benchmark the plate index, read plates in images.",
        subcommands: [Match.self, Recognize.self])
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

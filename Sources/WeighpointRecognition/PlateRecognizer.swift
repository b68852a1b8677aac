// WeighpointRecognition owns the built-in plate reader: frames in (CPlateRecognizer on OpenCV
// dnn with the HyperLPR networks), voted GA 36 readings out (decoding and voting in the core).
// It may import Core, Capture, Imaging and Crypto (for digests of the model files).
import WeighpointCrypto
import WeighpointImaging
import CPlateRecognizer
import Foundation
import WeighpointCapture
import WeighpointCore

/// Why the recogniser could not start or read.
public struct RecognizerError: Error, CustomStringConvertible, Sendable {
    public let what: String
    public let reason: String
    public var description: String { "\(what): \(reason)" }
}

/// A plate found in a frame: where, how sure the detector was, its colour, and its reading.
public struct DetectedPlate: Sendable {
    public var box: PlateBox
    public var detectorScore: Double
    public var color: PlateColor
    /// 2 when the plate was read as a two-row plate (yellow, 440 x 220 mm), else 1.
    public var rows: Int
    /// The likeliest GA 36 plate (nil when none fits the network's output).
    public var reading: PlateReading?
    /// What the published pipeline's best-path decoding makes of the same output (the baseline).
    public var bestPath: (text: String, confidence: Double)
}

/// Plate detection and reading through the C++ recogniser (OpenCV dnn, HyperLPR v1 networks),
/// with the reading decoded under GA 36 grammar in the core. The model files are checked against
/// their SHA256SUMS at start; `modelSHA256` (the hash of that file) names the model in every read.
public final class PlateRecognizer: @unchecked Sendable {
    public static let modelName = "hyperlpr-v1"
    /// Confidence (the weakest character's probability, voted over the frames) from which a
    /// reading is reported as the plate; below it the record says unknown, with the candidates.
    /// 0.6: chosen on generated frame sequences; on a held-out set the voted readings at or
    /// above it are 98.6 % right (BENCHMARKS.md, `Scripts/plate-eval`).
    public static let defaultThreshold = 0.6
    /// Where Scripts/install-models puts the models.
    public static let defaultModelsDirectory = (ProcessInfo.processInfo.environment["WEIGHPOINT_MODELS"] ?? "/usr/local/share/weighpoint/models") + "/hyperlpr-v1"

    public struct Settings: Sendable {
        /// The detector runs at each of these sizes (the region's longer side, pixels). Its
        /// scores change with scale, so the sizes were chosen by measurement (BENCHMARKS.md:
        /// chosen on one generated set, checked on another).
        public var detectSides = [800]
        /// When nothing is found at `detectSides`: the scales tried once more (a small plate).
        public var fallbackSides = [960]
        /// When nothing is found at any scale: the plate-shaped regions densest in vertical edges
        /// read, at most this many (0: none). The detector misses about a third of green
        /// new-energy plates (BENCHMARKS.md); these regions find most of them.
        public var edgeSearch = 3
        /// Detector boxes from this score are read; the reading's own confidence sorts out boxes
        /// that are no plate.
        public var minDetectorScore = 0.3
        /// Boxes read per call at most.
        public var maxBoxes = 12
        public init() {}
    }

    public let modelsDirectory: String
    public let modelSHA256: String
    public let settings: Settings
    private let handle: OpaquePointer
    private static let classes: [Unicode.Scalar?] = (0..<Int(WP_LPR_CLASSES)).map { String(cString: wp_lpr_class_text(Int32($0))).unicodeScalars.first }

    public init(models: String = defaultModelsDirectory, settings: Settings = Settings()) throws(RecognizerError) {
        modelsDirectory = models
        self.settings = settings
        let sums = models + "/SHA256SUMS"
        guard let list = try? String(contentsOfFile: sums, encoding: .utf8) else {
            throw RecognizerError(what: models, reason: "no SHA256SUMS: install the models with Scripts/install-models")
        }
        for line in list.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count == 2 else { continue }
            let file = models + "/" + parts[1]
            guard let actual = try? Digest.hexDigest(ofFileAt: file) else { throw RecognizerError(what: file, reason: "cannot read the model file") }
            guard actual == parts[0] else { throw RecognizerError(what: file, reason: "SHA-256 \(actual) is not the \(parts[0]) of SHA256SUMS: the model was altered") }
        }
        do { modelSHA256 = try Digest.hexDigest(ofFileAt: sums) } catch { throw RecognizerError(what: sums, reason: "\(error)") }
        var err = [CChar](repeating: 0, count: 512)
        guard let h = wp_lpr_open(models, &err, err.count) else { throw RecognizerError(what: models, reason: Self.text(err)) }
        handle = h
    }

    deinit { wp_lpr_close(handle) }

    /// A NUL-terminated C string in a buffer.
    static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static var openCVVersion: String { String(cString: wp_lpr_opencv_version()) }

    /// Plates in packed RGB pixels, within `roi` (nil: everywhere). Boxes of one plate found at
    /// several scales are read each and their readings voted (PlateVote), like frames.
    public func read(rgb: [UInt8], width: Int, height: Int, roi: PlateBox? = nil) throws(RecognizerError) -> [DetectedPlate] {
        var found = try detect(rgb, width, height, roi, settings.detectSides, edgeSearch: 0)
        // Nothing at the usual scales (a small plate far away, a plate the detector does not
        // know): once more at a finer one, then the edge search.
        if found.isEmpty && (!settings.fallbackSides.isEmpty || settings.edgeSearch > 0) {
            found = try detect(rgb, width, height, roi, settings.fallbackSides, edgeSearch: settings.edgeSearch)
        }
        return found
    }

    /// Layouts of two-row plates (GA 36): the rear plate of a large vehicle and a trailer's.
    static let twoRowKinds: Set<Plate.Kind> = [.standard, .trailer]
    /// Timesteps of the reading network before which a two-row plate's rows laid side by side
    /// still show the province (the first of 18).
    static let twoRowSerialStep = 6

    private func detect(_ rgb: [UInt8], _ width: Int, _ height: Int, _ roi: PlateBox?, _ detectSides: [Int], edgeSearch: Int) throws(RecognizerError) -> [DetectedPlate] {
        var out = [wp_lpr_plate](repeating: wp_lpr_plate(), count: settings.maxBoxes)
        var err = [CChar](repeating: 0, count: 512)
        let region: [Int32] = roi.map { [Int32($0.x), Int32($0.y), Int32($0.width), Int32($0.height)] } ?? [0, 0, Int32(width), Int32(height)]
        let sides = detectSides.map { Int32($0) }
        let n = rgb.withUnsafeBufferPointer { px in
            out.withUnsafeMutableBufferPointer { o in
                region.withUnsafeBufferPointer { r in
                    sides.withUnsafeBufferPointer { sd in
                        wp_lpr_read(handle, px.baseAddress, Int32(width), Int32(height), Int32(width * 3), r.baseAddress,
                                    sd.baseAddress, Int32(sd.count), Float(settings.minDetectorScore), Int32(edgeSearch),
                                    o.baseAddress, Int32(o.count), &err, err.count)
                    }
                }
            }
        }
        guard n >= 0 else { throw RecognizerError(what: "recogniser", reason: Self.text(err)) }
        let boxes = out.prefix(Int(n)).map { p -> DetectedPlate in
            var plate = p
            let probabilities = withUnsafeBytes(of: &plate.ctc) { raw in Array(raw.bindMemory(to: Float.self)).map(Double.init) }
            let m = CharacterProbabilities(timesteps: Int(WP_LPR_TIMESTEPS), classes: Self.classes, blank: Int(WP_LPR_BLANK), p: probabilities)
            // The colour narrows the layouts (GA 36 issues green plates only for new-energy
            // vehicles, blue only standard ones); if none of those fits, any layout may.
            let color = Self.color(p.color)
            let box = PlateBox(x: Int(p.box.0), y: Int(p.box.1), width: Int(p.box.2), height: Int(p.box.3))
            if p.rows == 2 {
                // Read as a two-row plate: its layouts only, and any Chinese character after
                // the province stands for 挂.
                let folded = m.foldingChinese(into: "挂", from: Self.twoRowSerialStep) ?? m
                return DetectedPlate(box: box, detectorScore: Double(p.score), color: color, rows: 2,
                                     reading: PlateDecoder.constrained(folded, kinds: Self.twoRowKinds, perStep: 16), bestPath: PlateDecoder.greedy(folded))
            }
            var reading = PlateDecoder.constrained(m, kinds: Plate.Kind.issued(in: color), perStep: 16)
            if reading == nil, var any = PlateDecoder.constrained(m) {
                // A reading the plate's colour contradicts (seven characters on a green plate)
                // is kept for review, at half its confidence.
                if color != .unknown { any.confidence /= 2 }
                reading = any
            }
            return DetectedPlate(box: box, detectorScore: Double(p.score), color: color, rows: 1, reading: reading, bestPath: PlateDecoder.greedy(m))
        }
        // A box read both as a single-row and as a two-row plate: the surer reading.
        var unique: [DetectedPlate] = []
        for b in boxes {
            if let i = unique.lastIndex(where: { $0.box == b.box }) {
                if (b.reading?.confidence ?? -1) > (unique[i].reading?.confidence ?? -1) { unique[i] = b }
            } else {
                unique.append(b)
            }
        }
        // One plate per group of overlapping boxes (best detector score first).
        var groups: [[DetectedPlate]] = []
        for b in unique {
            if let g = groups.firstIndex(where: { Self.overlap($0[0].box, b.box) > 0.3 }) { groups[g].append(b) } else { groups.append([b]) }
        }
        return groups.map { g in
            var best = g[0]
            let readings = g.compactMap(\.reading)
            best.reading = readings.count > 1 ? (PlateVote.combine(readings) ?? readings.max { $0.confidence < $1.confidence }) : readings.first
            return best
        }
    }

    /// Intersection over union of two boxes.
    static func overlap(_ a: PlateBox, _ b: PlateBox) -> Double {
        let w = max(0, min(a.x + a.width, b.x + b.width) - max(a.x, b.x))
        let h = max(0, min(a.y + a.height, b.y + b.height) - max(a.y, b.y))
        let i = Double(w * h)
        return i == 0 ? 0 : i / Double(a.width * a.height + b.width * b.height - w * h)
    }

    /// Plates in a captured frame (JPEG, YUYV or RGB24).
    public func read(_ frame: CapturedFrame, roi: PlateBox? = nil) throws -> [DetectedPlate] {
        let (rgb, w, h) = try Self.rgb(frame)
        return try read(rgb: rgb, width: w, height: h, roi: roi)
    }

    /// Packed RGB pixels of a frame.
    public static func rgb(_ frame: CapturedFrame) throws(ImagingError) -> (rgb: [UInt8], width: Int, height: Int) {
        switch frame.format {
        case .mjpeg: return try decodeJPEG(frame.bytes)
        case .rgb24: return (frame.bytes, frame.width, frame.height)
        case .yuyv: return (yuyvToRGB(frame.bytes, width: frame.width, height: frame.height), frame.width, frame.height)
        }
    }

    static func color(_ c: Int32) -> PlateColor {
        switch c {
        case Int32(WP_LPR_BLUE): .blue
        case Int32(WP_LPR_YELLOW): .yellow
        case Int32(WP_LPR_GREEN): .green
        case Int32(WP_LPR_YELLOW_GREEN): .yellowGreen
        case Int32(WP_LPR_WHITE): .white
        case Int32(WP_LPR_BLACK): .black
        default: .unknown
        }
    }
}

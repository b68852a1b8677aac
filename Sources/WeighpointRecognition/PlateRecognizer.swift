import CPlateRecognizer
import Foundation
import WeighpointCapture
import WeighpointCore
import WeighpointEvidence

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
    /// Where Scripts/install-models puts the models.
    public static let defaultModelsDirectory = (ProcessInfo.processInfo.environment["WEIGHPOINT_MODELS"] ?? "/usr/local/share/weighpoint/models") + "/hyperlpr-v1"

    public struct Settings: Sendable {
        /// The detector sees the region scaled so its longer side is at most this (pixels).
        public var detectMaxSide = 1024
        public var minDetectorScore = 0.5
        public var maxPlates = 8
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

    /// Plates in packed RGB pixels, within `roi` (nil: everywhere).
    public func read(rgb: [UInt8], width: Int, height: Int, roi: PlateBox? = nil) throws(RecognizerError) -> [DetectedPlate] {
        var out = [wp_lpr_plate](repeating: wp_lpr_plate(), count: settings.maxPlates)
        var err = [CChar](repeating: 0, count: 512)
        let region: [Int32]? = roi.map { [Int32($0.x), Int32($0.y), Int32($0.width), Int32($0.height)] }
        let n = rgb.withUnsafeBufferPointer { px in
            out.withUnsafeMutableBufferPointer { o in
                if let region {
                    return region.withUnsafeBufferPointer { r in
                        wp_lpr_read(handle, px.baseAddress, Int32(width), Int32(height), Int32(width * 3), Int32(WP_LPR_RGB24), r.baseAddress,
                                    Int32(settings.detectMaxSide), Float(settings.minDetectorScore), o.baseAddress, Int32(o.count), &err, err.count)
                    }
                }
                return wp_lpr_read(handle, px.baseAddress, Int32(width), Int32(height), Int32(width * 3), Int32(WP_LPR_RGB24), nil,
                                   Int32(settings.detectMaxSide), Float(settings.minDetectorScore), o.baseAddress, Int32(o.count), &err, err.count)
            }
        }
        guard n >= 0 else { throw RecognizerError(what: "recogniser", reason: Self.text(err)) }
        return out.prefix(Int(n)).map { p in
            var plate = p
            let probabilities = withUnsafeBytes(of: &plate.ctc) { raw in Array(raw.bindMemory(to: Float.self)).map(Double.init) }
            let m = CharacterProbabilities(timesteps: Int(WP_LPR_TIMESTEPS), classes: Self.classes, blank: Int(WP_LPR_BLANK), p: probabilities)
            return DetectedPlate(
                box: PlateBox(x: Int(p.box.0), y: Int(p.box.1), width: Int(p.box.2), height: Int(p.box.3)), detectorScore: Double(p.score),
                color: Self.color(p.color), reading: PlateDecoder.constrained(m), bestPath: PlateDecoder.greedy(m))
        }
    }

    /// Plates in a captured frame (JPEG, YUYV or RGB24).
    public func read(_ frame: CapturedFrame, roi: PlateBox? = nil) throws -> [DetectedPlate] {
        let (rgb, w, h) = try Self.rgb(frame)
        return try read(rgb: rgb, width: w, height: h, roi: roi)
    }

    /// Packed RGB pixels of a frame.
    public static func rgb(_ frame: CapturedFrame) throws(CaptureError) -> (rgb: [UInt8], width: Int, height: Int) {
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

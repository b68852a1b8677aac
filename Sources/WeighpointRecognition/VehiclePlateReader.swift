import WeighpointImaging
import WeighpointCapture
import WeighpointCore

/// A vehicle's plate as read from several frames of one camera.
public struct VehiclePlate: Sendable {
    /// The voted reading: per character the weighted vote of the frames, under GA 36 grammar.
    public var reading: PlateReading
    public var color: PlateColor
    /// Where the plate is in the frame that read it best, and that frame's time.
    public var box: PlateBox
    public var time: Timestamp
    /// Frames whose reading voted for this plate, and frames read in all.
    public var frames: Int
    public var framesRead: Int
    /// The plate region of the best frame, JPEG (evidence: role `plate_crop`).
    public var crop: [UInt8]?
    /// Whole-plate alternatives for a person to check, best first (the reading itself first).
    public var candidates: [String]
}

/// Reads a vehicle's plate from the frames around its expected time: every frame is read
/// (every plate in it), readings that agree are grouped, and the group with the most weight is
/// voted into one reading (PlateVote). Bounded work: the caller decides how many frames.
public final class VehiclePlateReader: @unchecked Sendable {
    public let recognizer: PlateRecognizer
    private let encoder: JPEGEncoder

    public init(recognizer: PlateRecognizer, cropQuality: Int = 90) throws(ImagingError) {
        self.recognizer = recognizer
        encoder = try JPEGEncoder(quality: cropQuality)
    }

    struct Sighting {
        var reading: PlateReading
        var color: PlateColor
        var box: PlateBox
        var frame: Int
    }

    /// The plates seen in `frames`, the likeliest (most frames, surest) first. Frames that fail
    /// to decode are skipped (and counted out of `framesRead`). Frames are not kept decoded
    /// while they are read: the frames crops are cut from are decoded again, once each.
    public func read(_ frames: [CapturedFrame], roi: PlateBox? = nil) -> [VehiclePlate] {
        var sightings: [Sighting] = []
        var read = 0
        for (i, f) in frames.enumerated() {
            guard let px = try? PlateRecognizer.rgb(f), let plates = try? recognizer.read(rgb: px.rgb, width: px.width, height: px.height, roi: roi) else { continue }
            read += 1
            for p in plates { if let r = p.reading { sightings.append(Sighting(reading: r, color: p.color, box: p.box, frame: i)) } }
        }
        // Group readings of the same plate: same length, at most two characters apart.
        var groups: [[Sighting]] = []
        // Surest first; ties in frame order, so the same frames always give the same plate.
        for s in sightings.sorted(by: { ($0.reading.confidence, -$0.frame, -$0.box.x) > ($1.reading.confidence, -$1.frame, -$1.box.x) }) {
            if let g = groups.firstIndex(where: { Self.samePlate($0[0].reading.text, s.reading.text) }) { groups[g].append(s) } else { groups.append([s]) }
        }
        let weighed = groups.enumerated().map { i, g in (g, g.reduce(0) { $0 + max($1.reading.confidence, 1e-3) }, i) }
            .sorted { ($0.1, -$0.2) > ($1.1, -$1.2) }.map { ($0.0, $0.1) }
        // The frames crops are cut from, decoded once each.
        var decoded: [Int: (rgb: [UInt8], width: Int, height: Int)] = [:]
        return weighed.compactMap { group, _ -> VehiclePlate? in
            guard var voted = PlateVote.combine(group.map(\.reading)) else { return nil }
            let best = group[0]
            var colorWeight: [PlateColor: Double] = [:]
            for s in group where s.color != .unknown { colorWeight[s.color, default: 0] += s.reading.confidence }
            // As for one frame: a plate its colour contradicts is kept for review, at half confidence.
            let color = colorWeight.max { ($0.value, $1.key.rawValue) < ($1.value, $0.key.rawValue) }?.key ?? .unknown
            if color != .unknown, !voted.kind.colors.contains(color) { voted.confidence /= 2 }
            if decoded[best.frame] == nil { decoded[best.frame] = try? PlateRecognizer.rgb(frames[best.frame]) }
            let crop = decoded[best.frame].flatMap { try? cropJPEG($0.rgb, width: $0.width, height: $0.height, box: best.box) }
            return VehiclePlate(
                reading: voted, color: color, box: best.box, time: frames[best.frame].time,
                frames: Set(group.map(\.frame)).count, framesRead: read, crop: crop, candidates: Self.candidates(voted))
        }
    }

    static func samePlate(_ a: String, _ b: String) -> Bool {
        let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
        return x.count == y.count && zip(x, y).filter { $0 != $1 }.count <= 2
    }

    /// The reading, then each single change of a character to an alternative that is still a
    /// plate, likeliest first: the network's alternatives, and the look-alikes of the weakest
    /// character (what a person checking the picture should consider).
    static func candidates(_ r: PlateReading) -> [String] {
        var out = [r.text]
        let scalars = Array(r.text.unicodeScalars)
        var alternatives: [(String, Double)] = []
        func consider(_ i: Int, _ c: Unicode.Scalar, _ p: Double) {
            var s = scalars
            s[i] = c
            var v = String.UnicodeScalarView()
            v.append(contentsOf: s)
            if let plate = try? Plate(parsing: String(v)), !out.contains(plate.text), !alternatives.contains(where: { $0.0 == plate.text }) {
                alternatives.append((plate.text, p))
            }
        }
        for (i, alts) in r.characters.enumerated() {
            for a in alts.dropFirst() { consider(i, a.character, a.probability) }
        }
        if let weakest = r.characters.indices.min(by: { r.characters[$0][0].probability < r.characters[$1][0].probability }) {
            for set in LookalikeSets.sets where set.contains(scalars[weakest]) {
                for c in set.sorted(by: { $0.value < $1.value }) where c != scalars[weakest] { consider(weakest, c, 0) }
            }
        }
        out += alternatives.sorted { $0.1 > $1.1 }.prefix(4).map(\.0)
        return out
    }

    /// The plate's region with a margin, as JPEG.
    func cropJPEG(_ rgb: [UInt8], width: Int, height: Int, box: PlateBox) throws(ImagingError) -> [UInt8] {
        let mx = box.width / 4, my = box.height * 3 / 5
        let x0 = max(0, box.x - mx), y0 = max(0, box.y - my)
        let x1 = min(width, box.x + box.width + mx), y1 = min(height, box.y + box.height + my)
        let w = max(1, x1 - x0), h = max(1, y1 - y0)
        var out = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            let src = ((y0 + y) * width + x0) * 3
            out.replaceSubrange((y * w * 3)..<((y + 1) * w * 3), with: rgb[src..<(src + w * 3)])
        }
        return try encoder.encode(rgb: out, width: w, height: h)
    }
}

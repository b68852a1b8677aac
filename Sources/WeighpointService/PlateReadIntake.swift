import Foundation
import WeighpointCore
import WeighpointJSON
import WeighpointSystem

/// What the unit takes from a camera that pushes plate reads (`POST /v1/reads`), and what it
/// refuses. A read the unit takes can end up, signed, as a vehicle's plate, so everything in a
/// request is bounded before it is believed: the body's size and nesting, the number of reads,
/// each plate's text (valid UTF-8, at most 16 characters and 32 bytes, no control characters,
/// not blank), the read's time (not from the future beyond the allowed clock skew, not older
/// than the unit keeps reads), and each camera's rate. Every refusal names the read and field.
public final class PlateReadIntake: @unchecked Sendable {
    public struct Limits: Sendable, Equatable {
        /// Larger bodies get 413 before they are parsed.
        public var maxBodyBytes = 64 << 10
        public var maxReadsPerRequest = 100
        /// As sent: Unicode scalars, and UTF-8 bytes.
        public var maxPlateCharacters = 16
        public var maxPlateBytes = 32
        /// Reads one source address may send for one camera in any second; more get 429 and mark
        /// the camera suspect, naming the address. Counted per address, so a neighbour posting as
        /// a camera uses up its own allowance, not the camera's.
        public var readsPerSecondPerCamera = 5
        /// Sources (address and camera) followed at once; beyond, a new source gets 429.
        public var maxSources = 4096
        /// How far a read's time may be ahead of the unit's clock.
        public var clockSkewMicroseconds: Int64 = 2_000_000
        /// How old a read may be: older ones could match no weighing the unit still holds.
        public var maxAgeMicroseconds: Int64 = 120_000_000
        /// How long a camera stays suspect after its last refusal for rate.
        public var suspectForMicroseconds: Int64 = 60_000_000

        public init() {}
    }

    /// A request's fate: the reads to take, or the HTTP status and the reason.
    public enum Outcome: Sendable, Equatable {
        case accepted([PlateRead])
        case refused(status: Int, reason: String, message: String)
    }

    public let limits: Limits
    let cameras: Set<String>
    let clock: any WallClock
    private let lock = NSLock()
    /// Per source (address and camera), the unit's times of the reads taken in the last second.
    private var recent: [Source: [Int64]] = [:]
    /// Per camera, when and from where reads for it last came over the rate.
    private var lastOverRate: [String: (at: Timestamp, address: String)] = [:]

    struct Source: Hashable {
        let address: String
        let camera: String
    }

    public init(cameras: Set<String>, limits: Limits, clock: any WallClock) {
        self.cameras = cameras
        self.limits = limits
        self.clock = clock
    }

    /// The JSON limits of a read body: a few reads of short strings.
    var jsonLimits: JSONLimits { JSONLimits(maxBytes: limits.maxBodyBytes, maxDepth: 16, maxStringBytes: 1024) }

    /// Parses, checks and rate-limits one request body from an authenticated `sender`; a read
    /// for a camera the sender's credential is not for is refused with 403. A bad batch is
    /// refused whole. Each read taken carries the sender as its provenance.
    public func take(_ body: [UInt8], from sender: ReadSender) -> Outcome {
        let address = sender.address
        guard body.count <= limits.maxBodyBytes else {
            return .refused(status: 413, reason: "too_large", message: "body of \(body.count) bytes is over \(limits.maxBodyBytes)")
        }
        let now = clock.now()
        let reads: [PlateRead]
        switch parse(body, now: now, sender: sender) {
        case .success(let r): reads = r
        case .failure(let e): return .refused(status: e.reason == "forbidden" ? 403 : 400, reason: e.reason, message: e.message)
        }
        return lock.withLock {
            let since = now.microseconds - 1_000_000
            recent = recent.filter { $0.value.contains { $0 > since } }  // sources quiet for a second are forgotten
            var counts: [String: Int] = [:]
            for r in reads { counts[r.camera, default: 0] += 1 }
            for (camera, n) in counts.sorted(by: { $0.key < $1.key }) {
                let source = Source(address: address, camera: camera)
                if recent[source] == nil && recent.count >= limits.maxSources {
                    return .refused(status: 429, reason: "sources", message: "reads from \(limits.maxSources) sources in the last second: try again")
                }
                let already = recent[source, default: []].filter { $0 > since }
                if already.count + n > limits.readsPerSecondPerCamera {
                    lastOverRate[camera] = (now, address)
                    return .refused(
                        status: 429, reason: "rate",
                        message: "camera '\(camera)' from \(address): \(already.count + n) reads in one second is over its \(limits.readsPerSecondPerCamera) (a lane passes about one vehicle a second)")
                }
            }
            for (camera, n) in counts {
                let source = Source(address: address, camera: camera)
                recent[source] = recent[source, default: []].filter { $0 > since } + Array(repeating: now.microseconds, count: n)
            }
            return .accepted(reads)
        }
    }

    /// Cameras whose reads were refused for rate in the last minute: when, and from which address.
    public func suspects(at now: Timestamp) -> [String: (at: Timestamp, address: String)] {
        lock.withLock { lastOverRate.filter { $0.value.at.microseconds > now.microseconds - limits.suspectForMicroseconds } }
    }

    struct Refusal: Error {
        let reason: String
        let message: String
    }

    /// A read or an array of reads; every error names the read's index and the field.
    func parse(_ bytes: [UInt8], now: Timestamp, sender: ReadSender) -> Result<[PlateRead], Refusal> {
        let v: JSONValue
        do { v = try JSONValue.parse(bytes, limits: jsonLimits) } catch { return .failure(Refusal(reason: "json", message: "body is not JSON: \(error)")) }
        let items: [JSONValue]
        if case .array(let a) = v { items = a } else { items = [v] }
        guard !items.isEmpty else { return .failure(Refusal(reason: "empty", message: "no reads")) }
        guard items.count <= limits.maxReadsPerRequest else {
            return .failure(Refusal(reason: "too_many", message: "\(items.count) reads in one request is over \(limits.maxReadsPerRequest)"))
        }
        var out: [PlateRead] = []
        for (i, item) in items.enumerated() {
            func bad(_ field: String, _ reason: String, _ m: String) -> Result<[PlateRead], Refusal> {
                .failure(Refusal(reason: reason, message: "read \(i): \(field): \(m)"))
            }
            guard case .object(let o) = item else { return bad("-", "field", "must be an object") }
            if let unknown = o.keys.first(where: { !["camera", "time", "plate", "color", "confidence"].contains($0) }) {
                return bad(String(unknown.prefix(32)), "field", "unknown field")
            }
            guard let camera = item["camera"]?.stringValue else { return bad("camera", "field", "missing or not a string") }
            guard sender.cameras.contains(camera) else {
                let known = cameras.contains(camera) ? "'\(camera)'" : "'\(camera.prefix(32))' (not a configured camera)"
                return bad("camera", "forbidden", "credential \(sender.credential.prefix(90)) may post reads for \(sender.cameras.sorted().joined(separator: ", ")) only, not for \(known)")
            }
            guard let t = item["time"]?.stringValue, let time = Timestamp(rfc3339: t) else { return bad("time", "field", "missing or not an RFC 3339 time") }
            if time.microseconds > now.microseconds + limits.clockSkewMicroseconds {
                return bad("time", "time", "\(time) is ahead of the unit's clock (\(now)) by more than \(Double(limits.clockSkewMicroseconds) / 1e6) s")
            }
            if time.microseconds < now.microseconds - limits.maxAgeMicroseconds {
                return bad("time", "time", "\(time) is more than \(limits.maxAgeMicroseconds / 1_000_000) s old (the unit's clock says \(now)): no weighing it holds could match it")
            }
            guard let text = item["plate"]?.stringValue else { return bad("plate", "field", "missing or not a string") }
            if let problem = plateTextProblem(text) { return bad("plate", "plate", problem) }
            guard let c = item["color"]?.stringValue, let color = PlateColor(rawValue: c) else {
                return bad("color", "field", "missing or not one of \(PlateColor.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let confidence: Double
            switch item["confidence"] {
            case .double(let d)?: confidence = d
            case .int(let n)?: confidence = Double(n)
            case nil: confidence = 1
            default: return bad("confidence", "field", "must be a number")
            }
            guard (0...1).contains(confidence) else { return bad("confidence", "field", "\(confidence) is outside 0…1") }
            out.append(PlateRead(camera: camera, time: time, text: text, color: color, confidence: confidence, provenance: sender.provenance))
        }
        return .success(out)
    }

    /// Why a plate text as sent cannot be taken, or nil. The text is kept exactly as sent when
    /// taken; one that is not a GA 36 plate is not refused for that.
    func plateTextProblem(_ text: String) -> String? {
        let scalars = text.unicodeScalars
        if scalars.count > limits.maxPlateCharacters || text.utf8.count > limits.maxPlateBytes {
            return "\(scalars.count) characters (\(text.utf8.count) bytes) is over \(limits.maxPlateCharacters) characters or \(limits.maxPlateBytes) bytes"
        }
        // Control, format (zero-width), line and paragraph separators, private-use and unassigned
        // code points: nothing a plate shows, and each can break a display or an export.
        let refused: Set<Unicode.GeneralCategory> = [.control, .format, .lineSeparator, .paragraphSeparator, .privateUse, .unassigned, .surrogate]
        if let c = scalars.first(where: { refused.contains($0.properties.generalCategory) }) {
            return "control character U+\(String(c.value, radix: 16, uppercase: true)) in the text"
        }
        if scalars.allSatisfy({ $0.properties.isWhitespace }) { return text.isEmpty ? "empty" : "only whitespace" }
        return nil
    }
}

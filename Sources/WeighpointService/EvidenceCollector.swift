import WeighpointImaging
import Foundation
import Logging
import WeighpointCapture
import WeighpointCore
import WeighpointEvidence
import WeighpointSystem
import WeighpointJSON

/// Evidence collection for a decided vehicle: the frame of each of its lane's cameras nearest
/// the camera's expected time, the plate crops of the reads used (and of unsure reads, for
/// review), and the composite picture a person looks at. What could not be had is named with its
/// reason (`evidence_missing`), never silently left out.
final class EvidenceCollector: @unchecked Sendable {
    struct Evidence {
        var images: [EvidenceImage] = []
        /// Each piece that could not be had.
        var missing: [MissingEvidence] = []
        /// The recogniser's candidates of plates it could not read surely enough.
        var plateCandidates: [PlateCandidates]?

        mutating func lost(_ camera: String, _ role: String, _ reason: String) {
            missing.append(MissingEvidence(camera: camera, role: role, reason: reason))
        }
    }

    let config: StationConfig
    let cameras: UnitCameras
    let clock: any WallClock
    private let encoders: [String: JPEGEncoder]
    private let pictureRenderer: TextRenderer?
    private let pictureProblem: String?
    private let pictureEncoder: JPEGEncoder

    init(config: StationConfig, cameras: UnitCameras, clock: any WallClock, logger: Logger) throws {
        self.config = config
        self.cameras = cameras
        self.clock = clock
        var encoders: [String: JPEGEncoder] = [:]
        for c in config.cameras { encoders[c.id] = try JPEGEncoder(quality: c.jpegQuality) }
        self.encoders = encoders
        pictureEncoder = try JPEGEncoder(quality: 85)
        do {
            let r = try TextRenderer()
            pictureRenderer = r
            pictureProblem = nil
            logger.info("evidence picture font", metadata: ["font": "\(r.fontPath)"])
        } catch {
            pictureRenderer = nil
            pictureProblem = "no composite picture: \(error)"
            logger.error("evidence picture", metadata: ["problem": "\(error)"])
        }
    }

    /// Gathers the evidence of `v`, decided as `d`. `crop` gives the recogniser's plate crop of a
    /// read it made.
    func collect(for v: PendingVehicle, _ d: VehicleDecision, crop: (PlateRead) -> [UInt8]?) async -> Evidence {
        let w = v.weighing
        var e = Evidence()
        // A plate the recogniser could not read surely enough: what it saw, and the plate's
        // region of the frame it read best, for a person to check.
        let unsure = v.recognized.sorted { $0.key < $1.key }.filter { $0.value.candidates != nil }
        var reviewCrops: [EvidenceImage] = []
        if !unsure.isEmpty && (d.front == nil || d.rear == nil) {
            e.plateCandidates = unsure.compactMap { $0.value.candidates }
            reviewCrops = unsure.compactMap { camera, o in
                o.crop.map { EvidenceImage(role: "plate_crop", camera: camera, capturedAt: $0.at, bytes: $0.jpeg) }
            }
        }
        for c in cameras.of(lane: w.lane) {
            guard let ring = cameras.rings[c.id] else { continue }
            if v.takenOver {
                e.lost(c.id, c.role.rawValue, "the unit stopped before this weighing was decided and its frames were not kept")
                continue
            }
            let expected = c.camera.expectedTime(of: w) ?? w.time
            let state = cameras.state(c.id)
            if state.hasPrefix("down") {
                e.lost(c.id, c.role.rawValue, "camera \(state)")
                continue
            }
            let frame = await ring.evidence(at: expected, toleranceMicroseconds: Int64(c.toleranceMs) * 1000, timeoutMilliseconds: Int(c.postWindowS * 1000))
            guard let frame else {
                e.lost(c.id, c.role.rawValue, "no frame within \(c.toleranceMs) ms of \(expected)")
                continue
            }
            do {
                let jpeg = frame.format == .mjpeg ? frame.bytes : try encoders[c.id]!.encode(frame)
                e.images.append(EvidenceImage(role: c.role.rawValue, camera: c.id, capturedAt: frame.time, bytes: jpeg))
            } catch {
                e.lost(c.id, c.role.rawValue, "JPEG encoding failed: \(error)")
            }
        }
        // The plate crops of the reads used, from the recogniser.
        for r in d.usedReads {
            if let jpeg = crop(r) { e.images.append(EvidenceImage(role: "plate_crop", camera: r.camera, capturedAt: r.time, bytes: jpeg)) }
        }
        e.images += reviewCrops
        // The picture a person looks at, itself evidence (hashed into the record like the frames).
        if let renderer = pictureRenderer {
            let tiles = cameras.of(lane: w.lane).prefix(4).map { c in
                EvidencePicture.Tile(label: "\(Self.roleLabel(c.role)) \(c.id)", jpeg: e.images.first { $0.camera == c.id }?.bytes)
            }
            do {
                let jpeg = try EvidencePicture.compose(tiles: Array(tiles), lines: pictureLines(d), renderer: renderer, encoder: pictureEncoder)
                e.images.append(EvidenceImage(role: "composite", camera: "unit", capturedAt: clock.now(), bytes: jpeg))
            } catch {
                e.lost("unit", "composite", "composite picture failed: \(error)")
            }
        } else {
            e.lost("unit", "composite", pictureProblem ?? "no font")
        }
        return e
    }

    static func roleLabel(_ r: CameraRole) -> String {
        switch r {
        case .front: "前 front"
        case .rear: "后 rear"
        case .side: "侧 side"
        }
    }

    static let decisionLabels: [Decision: String] = [
        .overload: "涉嫌超限 suspected overload", .invalid: "无效称重 invalid weighing", .review: "人工复核 review",
        .permitted: "许可通行 permitted", .ok: "未超限 ok",
    ]

    /// The information band: time (UTC and Beijing), station, lane, direction, device, plate,
    /// speed, axles, gross, limit, overload and ratio, decision.
    func pictureLines(_ d: VehicleDecision) -> [String] {
        let (w, a, front, rear) = (d.weighing, d.assessment, d.front, d.rear)
        let st = config.station
        let lane = config.lanes.first { $0.number == w.lane }
        var l: [String] = []
        l.append("时间 \(w.time.beijingTime(fractionDigits: 3)) 北京时间   UTC \(w.time.rfc3339(fractionDigits: 3))")
        l.append("站点 \(st.code)\(st.name.map { " \($0)" } ?? "")   \(st.road ?? "") \(st.stake ?? "")   车道 lane \(w.lane)   方向 \(lane?.direction ?? st.direction ?? "-")   设备 \(st.deviceID)")
        let plate = front.map { "\($0.normalized) (\($0.color.rawValue))" } ?? "未识别 unknown"
        l.append("车牌 plate \(plate)\(rear.map { "   挂车 trailer \($0.normalized)" } ?? "")   车速 \(String(format: "%.1f", w.speedKmh)) km/h   轴数 axles \(w.axles.count)")
        var weights = "总重 gross \(a.grossKg) kg"
        if let limit = a.limit { weights += "   限值 limit \(limit.kg) kg" }
        if let over = a.overloadKg, let r = a.overloadRatio10k, a.decision == .overload { weights += "   超限 over \(over) kg (\(String(format: "%.2f", Double(r) / 100)) %)" }
        weights += "   结论 \(Self.decisionLabels[a.decision] ?? a.decision.rawValue)"
        l.append(weights)
        if !a.reasons.isEmpty { l.append("说明 " + a.reasons.joined(separator: "; ")) }
        return l
    }
}

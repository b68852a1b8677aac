import WeighpointCore
import WeighpointJSON

/// A piece of evidence that could not be had, and why (`evidence_missing[]`).
public struct MissingEvidence: Sendable, Equatable {
    public var camera: String
    /// The camera's role (`front`, `rear`, `side`) or `composite`.
    public var role: String
    public var reason: String

    public init(camera: String, role: String, reason: String) {
        self.camera = camera
        self.role = role
        self.reason = reason
    }

    var json: JSONValue { .object(["camera": .string(camera), "role": .string(role), "reason": .string(reason)]) }
}

/// What the built-in recogniser saw of a plate it could not read surely enough, for a person to
/// review (`plate_candidates[]`): candidate texts best first, its confidence, the frames it read.
public struct PlateCandidates: Sendable, Equatable {
    public var camera: String
    public var frames: Int
    public var candidates: [String]
    /// nil when no plate was found at all.
    public var confidence: Double?
    public var color: PlateColor?

    public init(camera: String, frames: Int, candidates: [String], confidence: Double?, color: PlateColor?) {
        self.camera = camera
        self.frames = frames
        self.candidates = candidates
        self.confidence = confidence
        self.color = color
    }

    var json: JSONValue {
        var o: JSONObject = [
            "camera": .string(camera), "frames": .int(Int64(frames)), "candidates": .array(candidates.map(JSONValue.string)),
            "confidence": confidence.map { .double(($0 * 10_000).rounded() / 10_000) } ?? .null,
        ]
        if let color { o["color"] = .string(color.rawValue) }
        return .object(o)
    }
}

/// The domain part of a record, from the decision core's results, as values: built once by the
/// unit, encoded once by the store when it commits (`json`). Field names follow the published
/// schema (Docs/record.schema.json); the store adds identity, sequence, chain and time. What the
/// store keeps as columns (decision, plate, controller sequence, lane, gross, weighing time) is
/// read from here, not from the encoded body.
public struct RecordContent: Sendable {
    public var weighing: Weighing
    public var assessment: OverloadAssessment
    public var front: PlateRead?
    public var rear: PlateRead?
    public var watchHits: [WatchHit]
    /// Unsure plates for review; nil: the field is left out.
    public var plateCandidates: [PlateCandidates]?
    /// What could not be had; nil: the field is left out (records made outside the unit).
    public var evidenceMissing: [MissingEvidence]?

    public init(weighing: Weighing, assessment: OverloadAssessment, front: PlateRead?, rear: PlateRead?, watchHits: [WatchHit] = []) {
        self.weighing = weighing
        self.assessment = assessment
        self.front = front
        self.rear = rear
        self.watchHits = watchHits
    }

    /// `assessment.decision`.
    public var decision: String { assessment.decision.rawValue }
    /// The front plate, normalised (`plate`).
    public var plate: String? { front?.normalized }

    /// The content as the record's JSON fields.
    public var json: JSONObject {
        let w = weighing, a = assessment
        func plateJSON(_ r: PlateRead, role: String) -> JSONValue {
            var o: JSONObject = [
                "role": .string(role), "camera": .string(r.camera), "time": .string(r.time.description),
                "text_read": .string(r.text), "text": .string(r.normalized), "color": .string(r.color.rawValue),
                "color_code": .int(Int64(r.color.code(in: .oneBased))), "confidence": .double(r.confidence),
            ]
            // What the built-in recogniser adds: its model, the box, each character's alternatives.
            if let m = r.recognizer { o["recognizer"] = .string(m) }
            // A pushed read: who sent it, authenticated by what.
            if let p = r.provenance {
                o["provenance"] = .object(["credential": .string(p.credential), "transport": .string(p.transport), "address": .string(p.address)])
            }
            if let b = r.box { o["box"] = .array([b.x, b.y, b.width, b.height].map { .int(Int64($0)) }) }
            if let alts = r.alternatives {
                o["alternatives"] = .array(alts.map { a in .array(a.map { .object(["char": .string(String($0.character)), "p": .double(($0.probability * 10_000).rounded() / 10_000)]) }) })
            }
            return .object(o)
        }
        var plates: [JSONValue] = []
        if let f = front { plates.append(plateJSON(f, role: "front")) }
        if let r = rear { plates.append(plateJSON(r, role: "rear")) }
        let reasons = w.invalidityReasons().map { JSONValue.string($0.description) }
        var weighing: JSONObject = [
            "controller_seq": .int(Int64(w.seq)), "lane": .int(Int64(w.lane)), "time": .string(w.time.description),
            "speed_kmh": .double(w.speedKmh), "body": .string(w.body.rawValue), "drive_axles": w.driveAxles.map { .int(Int64($0)) } ?? .null,
            "axles": .array(w.axles.map { .object(["kg": .int(Int64($0.kg)), "tyres": .string($0.tyres.rawValue)]) }),
            "groups": .array(w.groups.map { .int(Int64($0)) }), "spacings_mm": .array(w.spacingsMm.map { .int(Int64($0)) }),
            "length_mm": w.lengthMm.map { .int(Int64($0)) } ?? .null, "gross_kg": .int(Int64(w.grossKg)),
            "flags": .array(w.flags.map { .string($0.rawValue) }), "valid": .bool(reasons.isEmpty), "invalid_reasons": .array(reasons),
        ]
        if let c = w.calibration { weighing["calibration"] = Self.calibrationJSON(c) }
        var assessment: JSONObject = [
            "decision": .string(a.decision.rawValue), "rule": a.limit.map { .string($0.rule) } ?? .null,
            "limit_kg": a.limit.map { .int(Int64($0.kg)) } ?? .null, "limit_basis": a.limit.map { .string($0.basis) } ?? .null,
            "tolerance": .object([
                "percent_hundredths": .int(Int64(a.tolerance.percentHundredths)), "kg": .int(Int64(a.tolerance.kg)),
                "deducted_kg": a.toleranceKg.map { .int(Int64($0)) } ?? .null,
            ]),
            "overload_kg": a.overloadKg.map { .int(Int64($0)) } ?? .null,
            "overload_ratio_1e4": a.overloadRatio10k.map { .int(Int64($0)) } ?? .null,
            "reasons": .array(a.reasons.map(JSONValue.string)),
            "axle_findings": .array(a.axleFindings.map {
                .object(["rule": .string(AxleLoadLimits.rule), "group": .int(Int64($0.group)), "axles": .array($0.axles.map { .int(Int64($0)) }), "kg": .int(Int64($0.kg)), "limit_kg": .int(Int64($0.limitKg))])
            }),
        ]
        if let p = a.permit {
            assessment["permit"] = .object([
                "plate": .string(p.permit.plate), "match": .string(p.kind.rawValue), "max_gross_kg": .int(Int64(p.permit.maxGrossKg)),
                "valid_from": .string(p.permit.validFrom.description), "valid_until": .string(p.permit.validUntil.description),
            ])
        } else {
            assessment["permit"] = .null
        }
        var out: JSONObject = [
            "weighing": .object(weighing), "plates": .array(plates),
            "plate": front.map { .string($0.normalized) } ?? .null,
            "plate_color": front.map { .string($0.color.rawValue) } ?? .null,
            "trailer_plate": rear.map { .string($0.normalized) } ?? .null,
            "assessment": .object(assessment),
            "watchlist": .array(watchHits.map { .object(["list": .string($0.list), "plate": .string($0.plate), "read": .string($0.read), "match": .string($0.kind.rawValue)]) }),
        ]
        if let c = plateCandidates { out["plate_candidates"] = .array(c.map(\.json)) }
        if let m = evidenceMissing { out["evidence_missing"] = .array(m.map(\.json)) }
        // The profile in force when the vehicle was weighed (the store's identity names one otherwise).
        if let c = w.calibration { out["calibration_profile_sha256"] = .string(c.profileSHA256) }
        return out
    }

    /// The correction applied to the controller's loads: factor, the cell it came from (null: the
    /// lane is uncalibrated), the controller's own figures, and the profile in force.
    static func calibrationJSON(_ c: AppliedCalibration) -> JSONValue {
        .object([
            "factor_1e4": .int(Int64(c.factor.tenThousandths)),
            "cell": c.cell.map { cell in
                .object([
                    "lane": .int(Int64(cell.lane)), "speed_from_kmh": cell.speedFromKmh.map { .int(Int64($0)) } ?? .null,
                    "axles": cell.axles.map { .string($0.description) } ?? .null,
                ])
            } ?? .null,
            "controller_axles_kg": .array(c.controllerAxlesKg.map { .int(Int64($0)) }),
            "controller_gross_kg": c.controllerGrossKg.map { .int(Int64($0)) } ?? .null,
            "profile_sha256": .string(c.profileSHA256),
        ])
    }
}
